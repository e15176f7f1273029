package names

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapse-image/synapse-image/image/recipe"
)

func TestDefaultRecipeName(t *testing.T) {
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	r, err := recipe.Load(filepath.Join(root, DefaultRecipe))
	require.NoError(t, err)
	assert.Equal(t, DefaultRecipeName, r.Name, "DefaultRecipeName is the name: of %s", DefaultRecipe)
}

func TestPaths(t *testing.T) {
	assert.Equal(t, ".build/synapse/oci", DefaultLayout())
	assert.Equal(t, ".build/postgres/packages.txt", PackagesFile("postgres"))
}
