package smtpsink

import (
	"context"
	"net/smtp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSinkReceivesWhatNetSMTPSends(t *testing.T) {
	s, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	defer s.Close()

	body := "Subject: hi\r\n\r\nline one\r\n.leading dot\r\n"
	err = smtp.SendMail(s.Addr().String(), nil, "noreply@e2e.test", []string{"a@e2e.test", "b@e2e.test"}, []byte(body))
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := s.WaitFor(ctx, "B@e2e.test")
	require.NoError(t, err)
	assert.Equal(t, "noreply@e2e.test", m.From)
	assert.Equal(t, []string{"a@e2e.test", "b@e2e.test"}, m.To)
	assert.Equal(t, body, m.Data, "dot-unstuffed data")

	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	_, err = s.WaitFor(ctx2, "nobody@e2e.test")
	assert.Error(t, err, "no mail for an address nobody wrote to")
}

func TestAddress(t *testing.T) {
	for in, want := range map[string]string{
		"FROM:<a@b.test> SIZE=12": "a@b.test",
		"TO:<c@d.test>":           "c@d.test",
		"FROM: e@f.test":          "e@f.test",
		"FROM:<>":                 "",
	} {
		assert.Equal(t, want, address(in), in)
	}
}

func TestText(t *testing.T) {
	for name, tc := range map[string]struct{ data, want string }{
		"plain": {"Subject: x\r\n\r\nhello https://a.test/\r\n", "hello https://a.test/\r\n\n"},
		"quoted-printable": {
			"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nlong=\r\n line a=3Db\r\n",
			"long line a=b\r\n\n",
		},
		"multipart base64": {
			"Content-Type: multipart/alternative; boundary=\"==b==\"\r\n\r\n--==b==\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naHR0cHM6Ly9h\r\nLnRlc3Qv\r\n--==b==\r\nContent-Type: image/png\r\n\r\nxxx\r\n--==b==--\r\n",
			"https://a.test/\n",
		},
	} {
		got, err := Message{Data: tc.data}.Text()
		require.NoError(t, err, name)
		assert.Equal(t, tc.want, got, name)
	}
}
