package platform

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseList(t *testing.T) {
	tests := []struct {
		in   string
		want []Platform
		err  string
	}{
		{"linux/amd64", []Platform{AMD64}, ""},
		{"linux/arm64,linux/amd64", []Platform{ARM64, AMD64}, ""},
		{"linux/amd64, linux/arm64/v8", []Platform{AMD64, ARM64}, ""},
		{"linux/amd64,linux/amd64", nil, "linux/amd64 twice"},
		{"linux/arm64,linux/arm64/v8", nil, "linux/arm64 twice"},
		{"amd64", nil, `"amd64": expected linux/amd64 or linux/arm64`},
		{"linux/riscv64", nil, `"linux/riscv64": expected`},
		{"windows/amd64", nil, `"windows/amd64": expected`},
		{"linux/amd64/v8", nil, `"linux/amd64/v8": expected`},
		{"", nil, `"": expected`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseList(tt.in)
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		p               Platform
		str, arch, qemu string
		oci             v1.Platform
	}{
		{AMD64, "linux/amd64", "amd64", "x86_64", v1.Platform{OS: "linux", Architecture: "amd64"}},
		{ARM64, "linux/arm64", "arm64", "aarch64", v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			assert.Equal(t, tt.str, tt.p.String())
			assert.Equal(t, tt.arch, tt.p.Arch())
			assert.Equal(t, tt.qemu, tt.p.QemuName())
			assert.Equal(t, tt.oci, tt.p.OCI())
			assert.Equal(t, tt.p, Of(&v1.ConfigFile{OS: "linux", Architecture: tt.arch}))
		})
	}
}
