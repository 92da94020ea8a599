package deploy

// The NATS configurations, read by the real nats-server's config parser
// (the module hark embeds), and the single-server one run for real.

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const testToken = "t0123456789abcdef0123456789abcdef"

// checkNATSOptions checks what hark needs of any of its NATS servers.
func checkNATSOptions(o *server.Options, token string) []string {
	var errs []string
	if !o.JetStream {
		errs = append(errs, "JetStream is off")
	}
	if !o.SyncAlways {
		errs = append(errs, "jetstream.sync_interval is not always: acknowledged messages can be lost on power loss")
	}
	if o.StoreDir != "/data" {
		errs = append(errs, fmt.Sprintf("jetstream.store_dir is %q, want /data (the volume)", o.StoreDir))
	}
	if o.Authorization != token {
		errs = append(errs, fmt.Sprintf("authorization token is %q, want the one from $NATS_TOKEN", o.Authorization))
	}
	if o.MaxPayload < 1<<20 {
		errs = append(errs, fmt.Sprintf("max_payload %d is below 1 MiB (the stream's largest message)", o.MaxPayload))
	}
	if o.ServerName == "" {
		errs = append(errs, "no server_name")
	}
	return errs
}

func processNATSConfig(t *testing.T, path string) *server.Options {
	t.Helper()
	o, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return o
}

func TestNATSSingleConfig(t *testing.T) {
	// A token from a secret file may end in a newline.
	for _, env := range []string{testToken, testToken + "\n"} {
		t.Setenv("NATS_TOKEN", env)
		o := processNATSConfig(t, filepath.Join("nats", "nats-single.conf"))
		wantErrors(t, checkNATSOptions(o, testToken), "")
		if o.Cluster.Port != 0 || len(o.Routes) > 0 {
			t.Errorf("nats-single.conf has a cluster: it is for one server")
		}
	}

	// Run it: JetStream on file storage, the token required.
	o := processNATSConfig(t, filepath.Join("nats", "nats-single.conf"))
	o.Host, o.Port = "127.0.0.1", server.RANDOM_PORT
	o.HTTPHost, o.HTTPPort = "127.0.0.1", server.RANDOM_PORT
	o.StoreDir = t.TempDir()
	o.NoSigs, o.NoLog = true, true
	srv, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server with nats-single.conf not ready after 10s")
	}
	if nc, err := nats.Connect(srv.ClientURL()); err == nil {
		nc.Close()
		t.Error("connected without the token")
	}
	nc, err := nats.Connect(srv.ClientURL(), nats.Token(testToken))
	if err != nil {
		t.Fatalf("connect with the token: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "HARK", Subjects: []string{"hark.>"}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatalf("create a file-storage work-queue stream: %v", err)
	}
	if _, err := js.Publish(ctx, "hark.recordings.uploaded", []byte(`{}`)); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if info, err := s.Info(ctx); err != nil || info.State.Msgs != 1 {
		t.Fatalf("stream info: %+v %v", info, err)
	}
}

func TestNATSClusterConfig(t *testing.T) {
	t.Setenv("NATS_TOKEN", testToken+"\n")
	t.Setenv("POD_NAME", "hark-nats-1")
	o := processNATSConfig(t, filepath.Join("nats", "nats-cluster.conf"))
	wantErrors(t, checkNATSOptions(o, testToken), "")
	if o.ServerName != "hark-nats-1" {
		t.Errorf("server_name %q, want the pod's name from $POD_NAME", o.ServerName)
	}
	set, errs := parseManifests(readManifests(t))
	wantErrors(t, errs, "")
	wantErrors(t, checkNATSCluster(o, set), "")

	// The checks fail on a cluster that does not match the manifests.
	bad := *o
	bad.Routes = o.Routes[:2]
	wantErrors(t, checkNATSCluster(&bad, set), "2 routes")
	bad = *o
	bad.Routes = append([]*url.URL{{Scheme: "nats", Host: "nats-0.nats:6222"}}, o.Routes[1:]...)
	wantErrors(t, checkNATSCluster(&bad, set), "nats-0.nats:6222")
	bad = *o
	bad.Cluster.Name = ""
	wantErrors(t, checkNATSCluster(&bad, set), "no cluster name")
	bad = *o
	bad.StoreDir = "/var/lib/nats"
	wantErrors(t, checkNATSCluster(&bad, set), "not on a volume")
	wantErrors(t, checkNATSOptions(&bad, testToken), "want /data")
	bad = *o
	bad.SyncAlways = false
	wantErrors(t, checkNATSOptions(&bad, testToken), "sync_interval")
	bad = *o
	bad.JetStream = false
	wantErrors(t, checkNATSOptions(&bad, testToken), "JetStream is off")
	wantErrors(t, checkNATSOptions(o, "another"), "authorization token")
}

// checkNATSCluster checks the cluster config against the StatefulSet that
// runs it: a route to every pod through the headless Service, the cluster
// port and the JetStream store on the pod's volume.
func checkNATSCluster(o *server.Options, set *manifestSet) []string {
	var errs []string
	obj := set.find("StatefulSet", "hark-nats")
	if obj == nil {
		return []string{"no StatefulSet hark-nats"}
	}
	ss := obj.Value.(*statefulSetObj)
	n := 0
	if ss.Spec.Replicas != nil {
		n = *ss.Spec.Replicas
	}
	if o.Cluster.Name == "" {
		errs = append(errs, "no cluster name")
	}
	if o.Cluster.Port != 6222 {
		errs = append(errs, fmt.Sprintf("cluster port %d, want 6222", o.Cluster.Port))
	}
	if len(o.Routes) != n {
		errs = append(errs, fmt.Sprintf("%d routes for %d servers", len(o.Routes), n))
	}
	for i, r := range o.Routes {
		want := fmt.Sprintf("%s-%d.%s:6222", obj.Metadata.Name, i, ss.Spec.ServiceName)
		if r.Host != want {
			errs = append(errs, fmt.Sprintf("route %d is %s, want %s (pod %d through the headless Service)", i, r.Host, want, i))
		}
	}
	var mounted []string
	for _, c := range ss.Spec.Template.Spec.Containers {
		for _, m := range c.VolumeMounts {
			mounted = append(mounted, m.MountPath)
		}
	}
	onVolume := func(path string) bool {
		for _, m := range mounted {
			if path == m || strings.HasPrefix(path, m+"/") {
				return true
			}
		}
		return false
	}
	if !onVolume(o.StoreDir) {
		errs = append(errs, fmt.Sprintf("jetstream.store_dir %s is not on a volume of the StatefulSet (%v)", o.StoreDir, mounted))
	}
	if o.PidFile != "" && !onVolume(filepath.Dir(o.PidFile)) {
		errs = append(errs, fmt.Sprintf("pid_file %s is not on a volume (the root filesystem is read-only)", o.PidFile))
	}
	return errs
}
