// Package kubernetes holds newsflow's Kubernetes manifests and a test that
// decodes them strictly into the Kubernetes API types (k8s.io/api) and a
// local copy of KEDA's ScaledObject, and checks them against what the
// newsflow binary serves. It is a module of its own, so that the main
// module's build does not carry the Kubernetes API packages:
//
//	cd deploy/kubernetes && go test ./...
package kubernetes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// scaledObject is KEDA's keda.sh/v1alpha1 ScaledObject as of KEDA 2.16
// (github.com/kedacore/keda/v2/apis/keda/v1alpha1), the fields of its spec
// copied so that a strict decode rejects what KEDA would not know. The KEDA
// module itself is not required: it brings a large dependency tree.
type scaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              scaledObjectSpec `json:"spec"`
}

type scaledObjectSpec struct {
	ScaleTargetRef        *scaleTarget     `json:"scaleTargetRef"`
	PollingInterval       *int32           `json:"pollingInterval,omitempty"`
	InitialCooldownPeriod *int32           `json:"initialCooldownPeriod,omitempty"`
	CooldownPeriod        *int32           `json:"cooldownPeriod,omitempty"`
	IdleReplicaCount      *int32           `json:"idleReplicaCount,omitempty"`
	MinReplicaCount       *int32           `json:"minReplicaCount,omitempty"`
	MaxReplicaCount       *int32           `json:"maxReplicaCount,omitempty"`
	Advanced              *json.RawMessage `json:"advanced,omitempty"`
	Triggers              []scaleTrigger   `json:"triggers"`
	Fallback              *json.RawMessage `json:"fallback,omitempty"`
}

type scaleTarget struct {
	Name                   string `json:"name"`
	APIVersion             string `json:"apiVersion,omitempty"`
	Kind                   string `json:"kind,omitempty"`
	EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
}

type scaleTrigger struct {
	Type              string                         `json:"type"`
	Name              string                         `json:"name,omitempty"`
	UseCachedMetrics  bool                           `json:"useCachedMetrics,omitempty"`
	Metadata          map[string]string              `json:"metadata"`
	AuthenticationRef *map[string]string             `json:"authenticationRef,omitempty"`
	MetricType        autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
}

// natsJetStreamMetadata are the metadata keys KEDA's nats-jetstream scaler
// reads (pkg/scalers/nats_jetstream_scaler.go).
var natsJetStreamMetadata = []string{"natsServerMonitoringEndpoint", "account", "stream", "consumer",
	"lagThreshold", "activationLagThreshold", "useHttps"}

// manifests holds every object of the folder's YAML files, decoded.
type manifests struct {
	configMaps  []corev1.ConfigMap
	deployments []appsv1.Deployment
	pdbs        []policyv1.PodDisruptionBudget
	hpas        []autoscalingv2.HorizontalPodAutoscaler
	scaled      []scaledObject
}

func load(t *testing.T) manifests {
	t.Helper()
	files, _ := filepath.Glob("*.yaml")
	if len(files) == 0 {
		t.Fatal("no manifests")
	}
	var m manifests
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range strings.Split(string(data), "\n---\n") {
			if err := m.add(doc); err != nil {
				t.Errorf("%s, document %d: %v", f, i+1, err)
			}
		}
	}
	return m
}

// add decodes one YAML document strictly: duplicate keys and fields the
// type does not have are errors.
func (m *manifests) add(doc string) error {
	js, err := yaml.YAMLToJSONStrict([]byte(doc))
	if err != nil {
		return err
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return err
	}
	strict := func(v any) error {
		d := json.NewDecoder(bytes.NewReader(js))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return fmt.Errorf("%s: %w", tm.Kind, err)
		}
		return nil
	}
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 ConfigMap":
		var o corev1.ConfigMap
		err = strict(&o)
		m.configMaps = append(m.configMaps, o)
	case "apps/v1 Deployment":
		var o appsv1.Deployment
		err = strict(&o)
		m.deployments = append(m.deployments, o)
	case "policy/v1 PodDisruptionBudget":
		var o policyv1.PodDisruptionBudget
		err = strict(&o)
		m.pdbs = append(m.pdbs, o)
	case "autoscaling/v2 HorizontalPodAutoscaler":
		var o autoscalingv2.HorizontalPodAutoscaler
		err = strict(&o)
		m.hpas = append(m.hpas, o)
	case "keda.sh/v1alpha1 ScaledObject":
		var o scaledObject
		err = strict(&o)
		m.scaled = append(m.scaled, o)
	default:
		return fmt.Errorf("unexpected kind %q of %q", tm.Kind, tm.APIVersion)
	}
	return err
}

func TestStrictDecodeRejectsUnknownFields(t *testing.T) {
	var m manifests
	for _, doc := range []string{
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: x }\nspec: { replica: 2 }\n",
		"apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: { name: x }\nspec: { maxReplicas: 2 }\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\nmetadata: { name: y }\n",
	} {
		if err := m.add(doc); err == nil {
			t.Errorf("accepted:\n%s", doc)
		}
	}
}

var roles = []string{"ingest", "process", "store"}

func TestManifests(t *testing.T) {
	m := load(t)
	byName := map[string]appsv1.Deployment{}
	for _, d := range m.deployments {
		byName[d.Name] = d
	}
	if got := slices.Sorted(maps.Keys(byName)); !slices.Equal(got, []string{"newsflow-ingest", "newsflow-process", "newsflow-store"}) {
		t.Fatalf("deployments %v", got)
	}
	for _, role := range roles {
		d := byName["newsflow-"+role]
		t.Run(role, func(t *testing.T) { checkDeployment(t, role, d) })
	}
	// A disruption budget for each role, selecting its pods and no others.
	covered := map[string]bool{}
	for _, p := range m.pdbs {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil {
			t.Errorf("PodDisruptionBudget %s: %v", p.Name, err)
			continue
		}
		var matches []string
		for _, d := range m.deployments {
			if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				matches = append(matches, d.Name)
			}
		}
		if len(matches) != 1 || matches[0] != p.Name {
			t.Errorf("PodDisruptionBudget %s selects %v", p.Name, matches)
		}
		if p.Spec.MaxUnavailable == nil && p.Spec.MinAvailable == nil {
			t.Errorf("PodDisruptionBudget %s allows any disruption", p.Name)
		}
		covered[p.Name] = true
	}
	for name := range byName {
		if !covered[name] {
			t.Errorf("no PodDisruptionBudget for %s", name)
		}
	}
	feeds := byName["newsflow-ingest"].Spec.Template.Spec.Volumes
	if len(m.configMaps) != 1 || !slices.ContainsFunc(feeds, func(v corev1.Volume) bool {
		return v.ConfigMap != nil && v.ConfigMap.Name == m.configMaps[0].Name
	}) {
		t.Errorf("ingest does not mount the feeds ConfigMap")
	}
}

func checkDeployment(t *testing.T, role string, d appsv1.Deployment) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("selector %v does not match the pod labels %v (%v)", d.Spec.Selector, d.Spec.Template.Labels, err)
	}
	if d.Spec.Template.Labels["app.kubernetes.io/component"] != role {
		t.Errorf("pod labels %v do not name the role", d.Spec.Template.Labels)
	}
	pod := d.Spec.Template.Spec
	if ps := pod.SecurityContext; ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser != 65532 {
		t.Errorf("pod securityContext %+v: want runAsNonRoot and user 65532 (the image's nonroot)", ps)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	if !slices.Equal(c.Args, []string{role}) {
		t.Errorf("args %v, want [%s]", c.Args, role)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("container securityContext %+v: want a read-only root, no privilege escalation, all capabilities dropped", sc)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	host, port, err := net.SplitHostPort(env["NEWSFLOW_HTTP"])
	if err != nil {
		t.Fatalf("NEWSFLOW_HTTP %q: %v", env["NEWSFLOW_HTTP"], err)
	}
	// newsflow refuses to listen off loopback without an API token.
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		token := slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
			return e.Name == "NEWSFLOW_API_TOKEN" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil ||
				e.Name == "NEWSFLOW_API_TOKEN_FILE" && e.Value != ""
		})
		if !token {
			t.Errorf("NEWSFLOW_HTTP %q is not a loopback address, and there is no NEWSFLOW_API_TOKEN from a Secret (or NEWSFLOW_API_TOKEN_FILE): newsflow would not start", env["NEWSFLOW_HTTP"])
		}
	}
	if len(c.Ports) != 1 || strconv.Itoa(int(c.Ports[0].ContainerPort)) != port || c.Ports[0].Name != "status" {
		t.Errorf("ports %+v, want status on %s (NEWSFLOW_HTTP)", c.Ports, port)
	}
	if env["NEWSFLOW_REPLICAS"] != "3" {
		t.Errorf("NEWSFLOW_REPLICAS %q, want 3", env["NEWSFLOW_REPLICAS"])
	}
	for name, p := range map[string]struct {
		probe *corev1.Probe
		path  string
	}{"liveness": {c.LivenessProbe, "/livez"}, "readiness": {c.ReadinessProbe, "/readyz"}, "startup": {c.StartupProbe, "/livez"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "status" {
			t.Errorf("%s probe %+v, want GET %s on port status", name, p.probe, p.path)
		}
	}
	req, lim := c.Resources.Requests.Memory(), c.Resources.Limits.Memory()
	if req.IsZero() || lim.IsZero() || lim.Cmp(*req) < 0 || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("resources %+v: want cpu and memory requests and a memory limit above the request", c.Resources)
	}
	mounts := map[string]bool{}
	for _, v := range c.VolumeMounts {
		mounts[v.MountPath] = true
	}
	if !mounts["/tmp"] {
		t.Errorf("no writable /tmp under the read-only root")
	}
}

func TestAutoscalers(t *testing.T) {
	m := load(t)
	streamRaw, consumerProcess := busNames(t)
	if len(m.scaled) != 1 || len(m.hpas) != 1 {
		t.Fatalf("%d ScaledObjects and %d HPAs, want one each", len(m.scaled), len(m.hpas))
	}
	so := m.scaled[0]
	if r := so.Spec.ScaleTargetRef; r == nil || r.Name != "newsflow-process" || r.Kind != "Deployment" {
		t.Errorf("ScaledObject targets %+v", r)
	}
	if len(so.Spec.Triggers) != 1 || so.Spec.Triggers[0].Type != "nats-jetstream" {
		t.Fatalf("triggers %+v, want one nats-jetstream", so.Spec.Triggers)
	}
	md := so.Spec.Triggers[0].Metadata
	for k := range md {
		if !slices.Contains(natsJetStreamMetadata, k) {
			t.Errorf("nats-jetstream scaler has no metadata %q", k)
		}
	}
	if md["stream"] != streamRaw || md["consumer"] != consumerProcess {
		t.Errorf("scaler reads stream %q consumer %q; process consumes %s with %s", md["stream"], md["consumer"], streamRaw, consumerProcess)
	}
	if _, port, err := net.SplitHostPort(md["natsServerMonitoringEndpoint"]); err != nil || port != "8222" {
		t.Errorf("natsServerMonitoringEndpoint %q: want host:8222", md["natsServerMonitoringEndpoint"])
	}
	if n, err := strconv.Atoi(md["lagThreshold"]); err != nil || n < 1 {
		t.Errorf("lagThreshold %q", md["lagThreshold"])
	}
	hpa := m.hpas[0]
	if r := hpa.Spec.ScaleTargetRef; r.Name != "newsflow-process" || r.Kind != "Deployment" || r.APIVersion != "apps/v1" {
		t.Errorf("HPA targets %+v", r)
	}
	if *so.Spec.MinReplicaCount != *hpa.Spec.MinReplicas || *so.Spec.MaxReplicaCount != hpa.Spec.MaxReplicas {
		t.Errorf("ScaledObject scales %d-%d, HPA %d-%d", *so.Spec.MinReplicaCount, *so.Spec.MaxReplicaCount, *hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
	}
	var process appsv1.Deployment
	for _, d := range m.deployments {
		if d.Name == "newsflow-process" {
			process = d
		}
	}
	// CPU utilization needs a CPU request to be measured against.
	if process.Spec.Template.Spec.Containers[0].Resources.Requests.Cpu().IsZero() {
		t.Error("process has no CPU request for the HPA's utilization target")
	}
}

// busNames reads the stream and consumer names the process role uses from
// the bus package's source.
func busNames(t *testing.T) (stream, consumer string) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "../../cmd/internal/bus/streams.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for i, name := range vs.Names {
				if i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						consts[name.Name], _ = strconv.Unquote(lit.Value)
					}
				}
			}
		}
		return true
	})
	if consts["StreamRaw"] == "" || consts["ConsumerProcess"] == "" {
		t.Fatalf("StreamRaw or ConsumerProcess not found in streams.go: %v", consts)
	}
	return consts["StreamRaw"], consts["ConsumerProcess"]
}

// TestProbesServed runs the newsflow binary (embedded NATS, SQLite) with the
// manifests' NEWSFLOW_HTTP port moved to a free one and an API token, and
// asks it every probe path the manifests name, without the token: each
// must answer 200.
func TestProbesServed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs newsflow")
	}
	m := load(t)
	paths := map[string]bool{}
	var host string
	for _, d := range m.deployments {
		c := d.Spec.Template.Spec.Containers[0]
		for _, e := range c.Env {
			if e.Name == "NEWSFLOW_HTTP" {
				host, _, _ = net.SplitHostPort(e.Value)
			}
		}
		for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
			if p != nil && p.HTTPGet != nil {
				paths[p.HTTPGet.Path] = true
			}
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "newsflow")
	build := exec.Command("go", "build", "-o", bin, "./cmd/newsflow")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	addr := "127.0.0.1:" + port
	ln.Close()
	feeds := filepath.Join(dir, "feeds.txt")
	os.WriteFile(feeds, []byte("http://feeds.invalid/feed.xml\n"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "run", "--feeds", feeds, "--data", filepath.Join(dir, "data"), "--http", net.JoinHostPort(host, port))
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "NEWSFLOW_API_TOKEN") })
	cmd.Env = append(cmd.Env, "NEWSFLOW_API_TOKEN=a-token-for-the-probe-test")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cancel(); <-exited })
	for path := range paths {
		var last string
		deadline := time.Now().Add(2 * time.Minute)
		for {
			resp, err := http.Get("http://" + addr + path)
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
				last = resp.Status + ": " + string(body)
			} else {
				last = err.Error()
			}
			select {
			case <-exited:
				t.Fatalf("newsflow exited: %s\n%s", cmd.ProcessState, logs.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %s", path, last)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
