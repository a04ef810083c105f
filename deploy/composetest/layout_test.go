package composetest

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// stages reads a Dockerfile's stages by name (FROM ... AS name), each as
// its instructions other than FROM, COPY and RUN, continuation lines
// joined: what the image is, not how it is filled.
func stages(t *testing.T, path string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	out := map[string][]string{}
	var stage string
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "FROM":
			stage = f[len(f)-1]
		case "COPY", "RUN", "WORKDIR":
		default:
			out[stage] = append(out[stage], strings.Join(f, " "))
		}
	}
	return out
}

// The images build.sh makes without a registry are laid out like
// deploy/Dockerfile's: same user, volume, environment, ports, health check,
// entrypoint and command.
func TestLocalImagesMatchDockerfile(t *testing.T) {
	shipped := stages(t, "../Dockerfile")
	local := stages(t, "../images/newsflow.Dockerfile")
	for _, name := range []string{"nats", "newsflow"} {
		if len(shipped[name]) == 0 || !slices.Equal(shipped[name], local[name]) {
			t.Errorf("stage %s:\ndeploy/Dockerfile:\n  %s\ndeploy/images/newsflow.Dockerfile:\n  %s", name,
				strings.Join(shipped[name], "\n  "), strings.Join(local[name], "\n  "))
		}
	}
	for _, want := range []string{"USER nonroot", "VOLUME /data", `ENTRYPOINT ["/newsflow"]`, `CMD ["run"]`} {
		if !slices.Contains(shipped["newsflow"], want) {
			t.Errorf("newsflow stage lacks %s", want)
		}
	}
}
