package enginefake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const token = "t0ken"

// post sends a query as the SDK does and returns data and error messages.
func post(t *testing.T, srv *httptest.Server, q string) (map[string]any, []string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": q, "operationName": "Query"})
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader(body))
	require.NoError(t, err)
	req.SetBasicAuth(token, "")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	var msgs []string
	for _, e := range out.Errors {
		msgs = append(msgs, e.Message)
	}
	return out.Data, msgs
}

func start(t *testing.T, answer Answer) (*Engine, *httptest.Server) {
	t.Helper()
	e := New(token, answer)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return e, srv
}

func idOf(t *testing.T, data map[string]any, path ...string) string {
	t.Helper()
	var cur any = data
	for _, p := range path {
		m, ok := cur.(map[string]any)
		require.True(t, ok, "no object at %s in %v", p, data)
		cur = m[p]
	}
	s, ok := cur.(string)
	require.True(t, ok, "no string at %v in %v", path, data)
	return s
}

func TestIDsDependOnTheChainOnly(t *testing.T) {
	_, srv := start(t, nil)
	a, errs := post(t, srv, `query Query {container{withEnvVariable(value:"1", name:"A"){id}}}`)
	require.Empty(t, errs)
	b, errs := post(t, srv, `query Query {container{withEnvVariable(name:"A", value:"1"){id}}}`)
	require.Empty(t, errs)
	c, errs := post(t, srv, `query Query {container{withEnvVariable(name:"A", value:"2"){id}}}`)
	require.Empty(t, errs)
	idA := idOf(t, a, "container", "withEnvVariable", "id")
	assert.Equal(t, idA, idOf(t, b, "container", "withEnvVariable", "id"), "argument order must not change the ID")
	assert.NotEqual(t, idA, idOf(t, c, "container", "withEnvVariable", "id"))
}

func TestObjectsPassedByIDAreRecordedAsTheirChain(t *testing.T) {
	answered := map[string]string{}
	e, srv := start(t, func(object, field string, args map[string]string) (any, bool) {
		answered[field] = object
		return "out", true
	})
	dir := e.Seed(`hostDirectory(".")`)
	e.Start(Call{ParentName: "M", Name: "F"})

	d, errs := post(t, srv, `query Query {container{from(address:"alpine"){withMountedDirectory(path:"/src", source:"`+dir+`"){id}}}}`)
	require.Empty(t, errs)
	ctr := idOf(t, d, "container", "from", "withMountedDirectory", "id")
	d, errs = post(t, srv, `query Query {node(id:"`+ctr+`"){... on Container{withExec(args:["ls", "-l"]){stdout}}}}`)
	require.Empty(t, errs)
	assert.Equal(t, "out", idOf(t, d, "node", "withExec", "stdout"), "inline fragments add no level to the data")

	want := `container.from(address: "alpine").withMountedDirectory(path: "/src", source: hostDirectory(".")).withExec(args: ["ls", "-l"])`
	assert.Equal(t, want, answered["stdout"])
	assert.Equal(t, []string{
		"container\n" +
			"  .from(address: \"alpine\")\n" +
			"  .withMountedDirectory(path: \"/src\", source: hostDirectory(\".\"))\n" +
			"  .withExec(args: [\"ls\", \"-l\"])\n" +
			"  .stdout",
	}, e.Recording(), "IDs are not recorded; the query that runs something is, with its objects resolved")
}

func TestTheFunctionCall(t *testing.T) {
	e, srv := start(t, nil)
	e.Start(Call{ParentName: "Synapse", Name: "Generate", Parent: `{"A":1}`, Args: []Arg{
		{Name: "serverName", Value: `"example.org"`},
		{Name: "reportStats", Value: `"no"`},
	}})
	d, errs := post(t, srv, `query Query {currentFunctionCall{parentName}}`)
	require.Empty(t, errs)
	assert.Equal(t, "Synapse", idOf(t, d, "currentFunctionCall", "parentName"))
	d, _ = post(t, srv, `query Query {currentFunctionCall{name}}`)
	assert.Equal(t, "Generate", idOf(t, d, "currentFunctionCall", "name"))
	d, _ = post(t, srv, `query Query {currentFunctionCall{parent}}`)
	assert.Equal(t, `{"A":1}`, idOf(t, d, "currentFunctionCall", "parent"))

	d, errs = post(t, srv, `query Query {currentFunctionCall{inputArgs{id}}}`)
	require.Empty(t, errs)
	list := d["currentFunctionCall"].(map[string]any)["inputArgs"].([]any)
	require.Len(t, list, 2)
	second := list[1].(map[string]any)["id"].(string)
	d, errs = post(t, srv, `query Query {node(id:"`+second+`"){... on FunctionCallArgValue{value}}}`)
	require.Empty(t, errs)
	assert.Equal(t, `"no"`, idOf(t, d, "node", "value"))

	_, errs = post(t, srv, `query Query {currentFunctionCall{returnValue(value:"\"fake:0\"")}}`)
	require.Empty(t, errs)
	got, ok := e.Returned()
	require.True(t, ok)
	assert.Equal(t, `"fake:0"`, got)
	assert.Empty(t, e.Recording(), "the call's bookkeeping is not part of the recording")
}

func TestUnknownFieldsFail(t *testing.T) {
	e, srv := start(t, func(string, string, map[string]string) (any, bool) { return nil, false })
	_, errs := post(t, srv, `query Query {container{from(address:"alpine"){stdout}}}`)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0], `no answer for container.from(address: "alpine").stdout`)
	assert.Len(t, e.Failures(), 1, "a test must be able to see what the fake could not answer")

	_, errs = post(t, srv, `query Query {node(id:"not-an-id"){... on Container{id}}}`)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0], "not an ID this engine handed out")
}

func TestRejectsAWrongToken(t *testing.T) {
	_, srv := start(t, nil)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader([]byte(`{"query":"{defaultPlatform}"}`)))
	require.NoError(t, err)
	req.SetBasicAuth("wrong", "")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestRenderJSONResolvesIDs(t *testing.T) {
	e, _ := start(t, nil)
	dir := e.Seed("hostDirectory")
	got, err := e.RenderJSON(`{"Source":"` + dir + `","Tags":["a"],"N":null}`)
	require.NoError(t, err)
	assert.Equal(t, "{\n    N: null\n    Source: hostDirectory\n    Tags: [\n        \"a\",\n    ]\n}", got)
}

func TestRenderJSONOmits(t *testing.T) {
	e, srv := start(t, nil)
	d, errs := post(t, srv, `query Query {function(name:"Build", sourceMap:"x"){withSourceMap(sourceMap:"y"){withDescription(description:"d"){id}}}}`)
	require.Empty(t, errs)
	id := idOf(t, d, "function", "withSourceMap", "withDescription", "id")
	got, err := e.RenderJSON(`"`+id+`"`, "sourceMap", "withSourceMap")
	require.NoError(t, err)
	assert.Equal(t, "function(name: \"Build\")\n  .withDescription(description: \"d\")", got)
}

func TestFailedAnswersFailLikeAnEngine(t *testing.T) {
	e, srv := start(t, func(string, string, map[string]string) (any, bool) {
		return Failed("process \"go run . publish\" did not complete successfully: exit code: 2"), true
	})
	_, errs := post(t, srv, `query Query {container{from(address:"alpine"){stdout}}}`)
	require.Len(t, errs, 1)
	assert.Equal(t, `process "go run . publish" did not complete successfully: exit code: 2`, errs[0])
	assert.Empty(t, e.Failures(), "a failed exec is an answer, not a query the fake could not answer")
}
