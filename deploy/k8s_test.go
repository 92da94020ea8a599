package deploy

// The Kubernetes manifests in deploy/k8s, checked without a cluster: every
// document is decoded strictly (an unknown or misspelt field is an error)
// into the parts of the Kubernetes types hark uses, then cross-checked —
// selectors, references to ConfigMaps and Secrets, volumes, ports, hark's
// command lines, secrets kept out of the open, and the restricted Pod
// Security Standard.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const harkNamespace = "hark"

// apiVersions is every kind the manifests may use, with its apiVersion.
var apiVersions = map[string]string{
	"Namespace":           "v1",
	"ConfigMap":           "v1",
	"Secret":              "v1",
	"Service":             "v1",
	"Deployment":          "apps/v1",
	"StatefulSet":         "apps/v1",
	"Job":                 "batch/v1",
	"CronJob":             "batch/v1",
	"PodDisruptionBudget": "policy/v1",
	"NetworkPolicy":       "networking.k8s.io/v1",
	"Kustomization":       "kustomize.config.k8s.io/v1beta1",
}

type objectMeta struct {
	Name        string            `yaml:"name"`
	Namespace   string            `yaml:"namespace"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type typeMeta struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   objectMeta `yaml:"metadata"`
}

type namespaceObj struct {
	typeMeta `yaml:",inline"`
}

type configMapObj struct {
	typeMeta   `yaml:",inline"`
	Data       map[string]string `yaml:"data"`
	BinaryData map[string]string `yaml:"binaryData"`
	Immutable  *bool             `yaml:"immutable"`
}

type secretObj struct {
	typeMeta   `yaml:",inline"`
	Type       string            `yaml:"type"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Immutable  *bool             `yaml:"immutable"`
}

type serviceObj struct {
	typeMeta `yaml:",inline"`
	Spec     struct {
		Type                     string            `yaml:"type"`
		ClusterIP                string            `yaml:"clusterIP"`
		PublishNotReadyAddresses bool              `yaml:"publishNotReadyAddresses"`
		Selector                 map[string]string `yaml:"selector"`
		SessionAffinity          string            `yaml:"sessionAffinity"`
		Ports                    []struct {
			Name       string      `yaml:"name"`
			Protocol   string      `yaml:"protocol"`
			Port       int         `yaml:"port"`
			TargetPort intOrString `yaml:"targetPort"`
			NodePort   int         `yaml:"nodePort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type labelSelector struct {
	MatchLabels      map[string]string `yaml:"matchLabels"`
	MatchExpressions any               `yaml:"matchExpressions"`
}

type deploymentObj struct {
	typeMeta `yaml:",inline"`
	Spec     struct {
		Replicas                *int          `yaml:"replicas"`
		Selector                labelSelector `yaml:"selector"`
		Template                podTemplate   `yaml:"template"`
		Strategy                any           `yaml:"strategy"`
		MinReadySeconds         int           `yaml:"minReadySeconds"`
		RevisionHistoryLimit    *int          `yaml:"revisionHistoryLimit"`
		ProgressDeadlineSeconds *int          `yaml:"progressDeadlineSeconds"`
	} `yaml:"spec"`
}

type statefulSetObj struct {
	typeMeta `yaml:",inline"`
	Spec     struct {
		Replicas             *int          `yaml:"replicas"`
		ServiceName          string        `yaml:"serviceName"`
		PodManagementPolicy  string        `yaml:"podManagementPolicy"`
		Selector             labelSelector `yaml:"selector"`
		Template             podTemplate   `yaml:"template"`
		UpdateStrategy       any           `yaml:"updateStrategy"`
		RevisionHistoryLimit *int          `yaml:"revisionHistoryLimit"`
		MinReadySeconds      int           `yaml:"minReadySeconds"`
		VolumeClaimTemplates []struct {
			Metadata objectMeta `yaml:"metadata"`
			Spec     struct {
				AccessModes      []string `yaml:"accessModes"`
				StorageClassName *string  `yaml:"storageClassName"`
				Resources        struct {
					Requests map[string]string `yaml:"requests"`
				} `yaml:"resources"`
			} `yaml:"spec"`
		} `yaml:"volumeClaimTemplates"`
		PersistentVolumeClaimRetentionPolicy any `yaml:"persistentVolumeClaimRetentionPolicy"`
	} `yaml:"spec"`
}

type jobObj struct {
	typeMeta `yaml:",inline"`
	Spec     struct {
		BackoffLimit            *int        `yaml:"backoffLimit"`
		ActiveDeadlineSeconds   *int        `yaml:"activeDeadlineSeconds"`
		TTLSecondsAfterFinished *int        `yaml:"ttlSecondsAfterFinished"`
		Completions             *int        `yaml:"completions"`
		Parallelism             *int        `yaml:"parallelism"`
		Template                podTemplate `yaml:"template"`
	} `yaml:"spec"`
}

type cronJobObj struct {
	typeMeta `yaml:",inline"`
	Spec     struct {
		Schedule                   string `yaml:"schedule"`
		TimeZone                   string `yaml:"timeZone"`
		ConcurrencyPolicy          string `yaml:"concurrencyPolicy"`
		StartingDeadlineSeconds    *int   `yaml:"startingDeadlineSeconds"`
		SuccessfulJobsHistoryLimit *int   `yaml:"successfulJobsHistoryLimit"`
		FailedJobsHistoryLimit     *int   `yaml:"failedJobsHistoryLimit"`
		JobTemplate                struct {
			Metadata objectMeta `yaml:"metadata"`
			Spec     struct {
				BackoffLimit          *int        `yaml:"backoffLimit"`
				ActiveDeadlineSeconds *int        `yaml:"activeDeadlineSeconds"`
				Template              podTemplate `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
	} `yaml:"spec"`
}

type pdbObj struct {
	typeMeta `yaml:",inline"`
	Spec     struct {
		MaxUnavailable any           `yaml:"maxUnavailable"`
		MinAvailable   any           `yaml:"minAvailable"`
		Selector       labelSelector `yaml:"selector"`
	} `yaml:"spec"`
}

type networkPolicyObj struct {
	typeMeta `yaml:",inline"`
	Spec     struct {
		PodSelector labelSelector `yaml:"podSelector"`
		PolicyTypes []string      `yaml:"policyTypes"`
		Ingress     any           `yaml:"ingress"`
		Egress      any           `yaml:"egress"`
	} `yaml:"spec"`
}

type kustomizationObj struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   any      `yaml:"metadata"`
	Namespace  string   `yaml:"namespace"`
	Resources  []string `yaml:"resources"`
	Images     []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
		Digest  string `yaml:"digest"`
	} `yaml:"images"`
	Labels       any `yaml:"labels"`
	CommonLabels any `yaml:"commonLabels"`
	Patches      any `yaml:"patches"`
}

type podTemplate struct {
	Metadata objectMeta `yaml:"metadata"`
	Spec     podSpec    `yaml:"spec"`
}

type podSpec struct {
	Affinity                      any                 `yaml:"affinity"`
	TopologySpreadConstraints     any                 `yaml:"topologySpreadConstraints"`
	NodeSelector                  map[string]string   `yaml:"nodeSelector"`
	Tolerations                   any                 `yaml:"tolerations"`
	PriorityClassName             string              `yaml:"priorityClassName"`
	ServiceAccountName            string              `yaml:"serviceAccountName"`
	AutomountServiceAccountToken  *bool               `yaml:"automountServiceAccountToken"`
	ImagePullSecrets              any                 `yaml:"imagePullSecrets"`
	TerminationGracePeriodSeconds *int                `yaml:"terminationGracePeriodSeconds"`
	RestartPolicy                 string              `yaml:"restartPolicy"`
	SecurityContext               *podSecurityContext `yaml:"securityContext"`
	InitContainers                []container         `yaml:"initContainers"`
	Containers                    []container         `yaml:"containers"`
	Volumes                       []volume            `yaml:"volumes"`
}

type seccompProfile struct {
	Type             string `yaml:"type"`
	LocalhostProfile string `yaml:"localhostProfile"`
}

type podSecurityContext struct {
	RunAsNonRoot        *bool           `yaml:"runAsNonRoot"`
	RunAsUser           *int64          `yaml:"runAsUser"`
	RunAsGroup          *int64          `yaml:"runAsGroup"`
	FSGroup             *int64          `yaml:"fsGroup"`
	FSGroupChangePolicy string          `yaml:"fsGroupChangePolicy"`
	SupplementalGroups  []int64         `yaml:"supplementalGroups"`
	SeccompProfile      *seccompProfile `yaml:"seccompProfile"`
}

type containerSecurityContext struct {
	RunAsNonRoot             *bool           `yaml:"runAsNonRoot"`
	RunAsUser                *int64          `yaml:"runAsUser"`
	RunAsGroup               *int64          `yaml:"runAsGroup"`
	Privileged               *bool           `yaml:"privileged"`
	AllowPrivilegeEscalation *bool           `yaml:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool           `yaml:"readOnlyRootFilesystem"`
	SeccompProfile           *seccompProfile `yaml:"seccompProfile"`
	Capabilities             *struct {
		Add  []string `yaml:"add"`
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
}

type keyRef struct {
	Name     string `yaml:"name"`
	Key      string `yaml:"key"`
	Optional *bool  `yaml:"optional"`
}

type nameRef struct {
	Name     string `yaml:"name"`
	Optional *bool  `yaml:"optional"`
}

type envVar struct {
	Name      string  `yaml:"name"`
	Value     *string `yaml:"value"`
	ValueFrom *struct {
		ConfigMapKeyRef  *keyRef `yaml:"configMapKeyRef"`
		SecretKeyRef     *keyRef `yaml:"secretKeyRef"`
		FieldRef         any     `yaml:"fieldRef"`
		ResourceFieldRef any     `yaml:"resourceFieldRef"`
	} `yaml:"valueFrom"`
}

type httpGetAction struct {
	Path        string      `yaml:"path"`
	Port        intOrString `yaml:"port"`
	Host        string      `yaml:"host"`
	Scheme      string      `yaml:"scheme"`
	HTTPHeaders any         `yaml:"httpHeaders"`
}

type handler struct {
	Exec *struct {
		Command []string `yaml:"command"`
	} `yaml:"exec"`
	HTTPGet   *httpGetAction `yaml:"httpGet"`
	TCPSocket *struct {
		Port intOrString `yaml:"port"`
	} `yaml:"tcpSocket"`
	GRPC *struct {
		Port    int    `yaml:"port"`
		Service string `yaml:"service"`
	} `yaml:"grpc"`
	Sleep *struct {
		Seconds int `yaml:"seconds"`
	} `yaml:"sleep"`
}

type probe struct {
	handler                       `yaml:",inline"`
	InitialDelaySeconds           int  `yaml:"initialDelaySeconds"`
	PeriodSeconds                 int  `yaml:"periodSeconds"`
	TimeoutSeconds                int  `yaml:"timeoutSeconds"`
	SuccessThreshold              int  `yaml:"successThreshold"`
	FailureThreshold              int  `yaml:"failureThreshold"`
	TerminationGracePeriodSeconds *int `yaml:"terminationGracePeriodSeconds"`
}

type container struct {
	Name            string   `yaml:"name"`
	Image           string   `yaml:"image"`
	ImagePullPolicy string   `yaml:"imagePullPolicy"`
	Command         []string `yaml:"command"`
	Args            []string `yaml:"args"`
	WorkingDir      string   `yaml:"workingDir"`
	Env             []envVar `yaml:"env"`
	EnvFrom         []struct {
		Prefix       string   `yaml:"prefix"`
		ConfigMapRef *nameRef `yaml:"configMapRef"`
		SecretRef    *nameRef `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
		Protocol      string `yaml:"protocol"`
	} `yaml:"ports"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	StartupProbe   *probe `yaml:"startupProbe"`
	Lifecycle      *struct {
		PreStop   *handler `yaml:"preStop"`
		PostStart *handler `yaml:"postStart"`
	} `yaml:"lifecycle"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext *containerSecurityContext `yaml:"securityContext"`
	VolumeMounts    []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type keyToPath struct {
	Key  string `yaml:"key"`
	Path string `yaml:"path"`
	Mode *int   `yaml:"mode"`
}

type volume struct {
	Name      string `yaml:"name"`
	ConfigMap *struct {
		Name        string      `yaml:"name"`
		Items       []keyToPath `yaml:"items"`
		DefaultMode *int        `yaml:"defaultMode"`
		Optional    *bool       `yaml:"optional"`
	} `yaml:"configMap"`
	Secret *struct {
		SecretName  string      `yaml:"secretName"`
		Items       []keyToPath `yaml:"items"`
		DefaultMode *int        `yaml:"defaultMode"`
		Optional    *bool       `yaml:"optional"`
	} `yaml:"secret"`
	Projected *struct {
		DefaultMode *int `yaml:"defaultMode"`
		Sources     []struct {
			ConfigMap *struct {
				Name  string      `yaml:"name"`
				Items []keyToPath `yaml:"items"`
			} `yaml:"configMap"`
			Secret *struct {
				Name  string      `yaml:"name"`
				Items []keyToPath `yaml:"items"`
			} `yaml:"secret"`
			DownwardAPI         any `yaml:"downwardAPI"`
			ServiceAccountToken any `yaml:"serviceAccountToken"`
		} `yaml:"sources"`
	} `yaml:"projected"`
	EmptyDir *struct {
		Medium    string `yaml:"medium"`
		SizeLimit string `yaml:"sizeLimit"`
	} `yaml:"emptyDir"`
	PersistentVolumeClaim *struct {
		ClaimName string `yaml:"claimName"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"persistentVolumeClaim"`
}

// intOrString is a port given as a number or a name.
type intOrString struct {
	Value string
	Set   bool
}

func (v *intOrString) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a port number or name", n.Line)
	}
	v.Value, v.Set = n.Value, true
	return nil
}

// object is one document of the manifests, decoded by kind.
type object struct {
	File string
	typeMeta
	Value any // *deploymentObj, *serviceObj …
}

func (o *object) String() string { return fmt.Sprintf("%s: %s %s", o.File, o.Kind, o.Metadata.Name) }

// workload is a Deployment, StatefulSet or Job: something that runs pods.
type workload struct {
	Obj      *object
	Selector *labelSelector // nil for a Job
	Template *podTemplate
}

type manifestSet struct {
	Files     []string // every file name, as given
	Objects   []*object
	Workloads []workload
}

func (s *manifestSet) find(kind, name string) *object {
	for _, o := range s.Objects {
		if o.Kind == kind && o.Metadata.Name == name {
			return o
		}
	}
	return nil
}

// parseManifests decodes every document of every file (name → content).
// Decoding is strict: a field the Kubernetes type does not have (as far as
// these types know it) is an error.
func parseManifests(files map[string]string) (*manifestSet, []string) {
	set := &manifestSet{}
	var errs []string
	for _, file := range sortedKeys(files) {
		set.Files = append(set.Files, file)
		dec := yaml.NewDecoder(strings.NewReader(files[file]))
		for doc := 1; ; doc++ {
			var node yaml.Node
			err := dec.Decode(&node)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: document %d: %v", file, doc, err))
				break
			}
			if len(node.Content) == 0 || node.Content[0].Kind != yaml.MappingNode || len(node.Content[0].Content) == 0 {
				continue // an empty document (a file of comments)
			}
			raw, err := yaml.Marshal(&node)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: document %d: %v", file, doc, err))
				continue
			}
			var tm typeMeta
			if err := yaml.Unmarshal(raw, &tm); err != nil {
				errs = append(errs, fmt.Sprintf("%s: document %d: %v", file, doc, err))
				continue
			}
			where := fmt.Sprintf("%s: document %d (%s %s)", file, doc, tm.Kind, tm.Metadata.Name)
			if tm.APIVersion == "" || tm.Kind == "" {
				errs = append(errs, where+": no apiVersion or kind")
				continue
			}
			want, ok := apiVersions[tm.Kind]
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: unknown kind %q (known: %s)", where, tm.Kind, strings.Join(sortedKeys(apiVersions), ", ")))
				continue
			}
			if tm.APIVersion != want {
				errs = append(errs, fmt.Sprintf("%s: apiVersion %q, want %q for %s", where, tm.APIVersion, want, tm.Kind))
				continue
			}
			if tm.Metadata.Name == "" && tm.Kind != "Kustomization" {
				errs = append(errs, where+": no metadata.name")
				continue
			}
			var v any
			switch tm.Kind {
			case "Namespace":
				v = &namespaceObj{}
			case "ConfigMap":
				v = &configMapObj{}
			case "Secret":
				v = &secretObj{}
			case "Service":
				v = &serviceObj{}
			case "Deployment":
				v = &deploymentObj{}
			case "StatefulSet":
				v = &statefulSetObj{}
			case "Job":
				v = &jobObj{}
			case "CronJob":
				v = &cronJobObj{}
			case "PodDisruptionBudget":
				v = &pdbObj{}
			case "NetworkPolicy":
				v = &networkPolicyObj{}
			case "Kustomization":
				v = &kustomizationObj{}
			}
			strict := yaml.NewDecoder(bytes.NewReader(raw))
			strict.KnownFields(true)
			if err := strict.Decode(v); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", where, err))
				continue
			}
			o := &object{File: file, typeMeta: tm, Value: v}
			set.Objects = append(set.Objects, o)
			switch x := v.(type) {
			case *deploymentObj:
				set.Workloads = append(set.Workloads, workload{o, &x.Spec.Selector, &x.Spec.Template})
			case *statefulSetObj:
				set.Workloads = append(set.Workloads, workload{o, &x.Spec.Selector, &x.Spec.Template})
			case *jobObj:
				set.Workloads = append(set.Workloads, workload{o, nil, &x.Spec.Template})
			case *cronJobObj:
				set.Workloads = append(set.Workloads, workload{o, nil, &x.Spec.JobTemplate.Spec.Template})
			}
		}
	}
	return set, errs
}

// checkManifests runs every check over a parsed set.
func checkManifests(s *manifestSet) []string {
	var errs []string
	errs = append(errs, checkObjects(s)...)
	errs = append(errs, checkSelectors(s)...)
	errs = append(errs, checkReferences(s)...)
	errs = append(errs, checkContainers(s)...)
	errs = append(errs, checkKustomization(s)...)
	return errs
}

// checkObjects: names unique per kind, everything in hark's namespace, which
// the set defines.
func checkObjects(s *manifestSet) []string {
	var errs []string
	seen := map[string]*object{}
	for _, o := range s.Objects {
		if o.Kind == "Kustomization" {
			continue
		}
		id := o.Kind + "/" + o.Metadata.Name
		if prev := seen[id]; prev != nil {
			errs = append(errs, fmt.Sprintf("%s: defined twice (also in %s)", o, prev.File))
		}
		seen[id] = o
		if o.Kind == "Namespace" {
			continue
		}
		if o.Metadata.Namespace != harkNamespace {
			errs = append(errs, fmt.Sprintf("%s: namespace %q, want %q", o, o.Metadata.Namespace, harkNamespace))
		}
	}
	if s.find("Namespace", harkNamespace) == nil {
		errs = append(errs, fmt.Sprintf("no Namespace %s", harkNamespace))
	}
	return errs
}

// isSubset says whether every label of sel is in labels.
func isSubset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkSelectors: a workload's selector picks its own pods; a Service, a
// PodDisruptionBudget and a NetworkPolicy each select the pods of exactly
// one workload; a Service's target ports are ports of those pods; a
// StatefulSet's serviceName is a Service.
func checkSelectors(s *manifestSet) []string {
	var errs []string
	for _, w := range s.Workloads {
		if w.Selector == nil {
			continue
		}
		if len(w.Selector.MatchLabels) == 0 {
			errs = append(errs, fmt.Sprintf("%s: spec.selector.matchLabels is empty", w.Obj))
		} else if !isSubset(w.Selector.MatchLabels, w.Template.Metadata.Labels) {
			errs = append(errs, fmt.Sprintf("%s: spec.selector.matchLabels %v are not all in spec.template.metadata.labels %v", w.Obj, w.Selector.MatchLabels, w.Template.Metadata.Labels))
		}
		for _, other := range s.Workloads {
			if other.Obj != w.Obj && isSubset(w.Selector.MatchLabels, other.Template.Metadata.Labels) {
				errs = append(errs, fmt.Sprintf("%s: its selector also matches the pods of %s", w.Obj, other.Obj))
			}
		}
		if ss, ok := w.Obj.Value.(*statefulSetObj); ok {
			if ss.Spec.ServiceName == "" || s.find("Service", ss.Spec.ServiceName) == nil {
				errs = append(errs, fmt.Sprintf("%s: serviceName %q is not a Service in the manifests", w.Obj, ss.Spec.ServiceName))
			}
		}
	}
	selected := func(o *object, sel map[string]string) []workload {
		if len(sel) == 0 {
			errs = append(errs, fmt.Sprintf("%s: empty selector", o))
			return nil
		}
		var ws []workload
		for _, w := range s.Workloads {
			if isSubset(sel, w.Template.Metadata.Labels) {
				ws = append(ws, w)
			}
		}
		if len(ws) != 1 {
			var names []string
			for _, w := range ws {
				names = append(names, w.Obj.String())
			}
			errs = append(errs, fmt.Sprintf("%s: selector %v matches the pods of %d workloads %v, want exactly one", o, sel, len(ws), names))
		}
		return ws
	}
	for _, o := range s.Objects {
		switch x := o.Value.(type) {
		case *serviceObj:
			ws := selected(o, x.Spec.Selector)
			if len(ws) != 1 {
				continue
			}
			for _, p := range x.Spec.Ports {
				target := p.TargetPort
				if !target.Set {
					target = intOrString{strconv.Itoa(p.Port), true}
				}
				if !hasContainerPort(ws[0].Template, target) {
					errs = append(errs, fmt.Sprintf("%s: port %d targets %q, which no container of %s has", o, p.Port, target.Value, ws[0].Obj))
				}
			}
		case *pdbObj:
			selected(o, x.Spec.Selector.MatchLabels)
		case *networkPolicyObj:
			selected(o, x.Spec.PodSelector.MatchLabels)
		}
	}
	return errs
}

func hasContainerPort(t *podTemplate, port intOrString) bool {
	for _, c := range t.Spec.Containers {
		if containerHasPort(c, port) {
			return true
		}
	}
	return false
}

func containerHasPort(c container, port intOrString) bool {
	for _, p := range c.Ports {
		if port.Value == p.Name || port.Value == strconv.Itoa(p.ContainerPort) {
			return true
		}
	}
	return false
}

// keysOf returns the keys of a ConfigMap or Secret in the set, or nil and
// false when there is no such object.
func (s *manifestSet) keysOf(kind, name string) ([]string, bool) {
	o := s.find(kind, name)
	if o == nil {
		return nil, false
	}
	switch x := o.Value.(type) {
	case *configMapObj:
		return slices.Concat(sortedKeys(x.Data), sortedKeys(x.BinaryData)), true
	case *secretObj:
		return slices.Concat(sortedKeys(x.Data), sortedKeys(x.StringData)), true
	}
	return nil, false
}

// checkReferences: every ConfigMap and Secret a pod uses (envFrom, env
// valueFrom, volumes) is in the set, with the keys asked for; every volume
// mount names a volume.
func checkReferences(s *manifestSet) []string {
	var errs []string
	ref := func(w workload, what, kind, name, key string) {
		keys, ok := s.keysOf(kind, name)
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: %s names %s %q, which the manifests do not define", w.Obj, what, kind, name))
			return
		}
		if key != "" && !slices.Contains(keys, key) {
			errs = append(errs, fmt.Sprintf("%s: %s asks for key %q of %s %s, which has %v", w.Obj, what, key, kind, name, keys))
		}
	}
	items := func(w workload, what, kind, name string, kp []keyToPath) {
		if len(kp) == 0 {
			ref(w, what, kind, name, "")
		}
		for _, it := range kp {
			ref(w, what, kind, name, it.Key)
		}
	}
	for _, w := range s.Workloads {
		spec := &w.Template.Spec
		volumes := map[string]bool{}
		for _, v := range spec.Volumes {
			volumes[v.Name] = true
			what := "volume " + v.Name
			switch {
			case v.ConfigMap != nil:
				items(w, what, "ConfigMap", v.ConfigMap.Name, v.ConfigMap.Items)
			case v.Secret != nil:
				items(w, what, "Secret", v.Secret.SecretName, v.Secret.Items)
			case v.Projected != nil:
				for _, src := range v.Projected.Sources {
					if src.ConfigMap != nil {
						items(w, what, "ConfigMap", src.ConfigMap.Name, src.ConfigMap.Items)
					}
					if src.Secret != nil {
						items(w, what, "Secret", src.Secret.Name, src.Secret.Items)
					}
				}
			case v.EmptyDir != nil, v.PersistentVolumeClaim != nil:
			default:
				errs = append(errs, fmt.Sprintf("%s: volume %s has no source", w.Obj, v.Name))
			}
		}
		if ss, ok := w.Obj.Value.(*statefulSetObj); ok {
			for _, vct := range ss.Spec.VolumeClaimTemplates {
				volumes[vct.Metadata.Name] = true
			}
		}
		for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef != nil {
					ref(w, "container "+c.Name+" envFrom", "ConfigMap", ef.ConfigMapRef.Name, "")
				}
				if ef.SecretRef != nil {
					ref(w, "container "+c.Name+" envFrom", "Secret", ef.SecretRef.Name, "")
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					ref(w, "container "+c.Name+" env "+e.Name, "ConfigMap", r.Name, r.Key)
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					ref(w, "container "+c.Name+" env "+e.Name, "Secret", r.Name, r.Key)
				}
			}
			for _, m := range c.VolumeMounts {
				if !volumes[m.Name] {
					errs = append(errs, fmt.Sprintf("%s: container %s mounts volume %q, which the pod does not have", w.Obj, c.Name, m.Name))
				}
			}
		}
	}
	return errs
}

// isHarkImage says whether an image is hark's (repository named hark).
func isHarkImage(image string) bool {
	repo := image
	if i := strings.LastIndex(repo, "@"); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	return repo == "hark" || strings.HasSuffix(repo, "/hark")
}

// envOf resolves a container's environment as far as the manifests say:
// envFrom ConfigMaps, then env literals.
func (s *manifestSet) envOf(c container) map[string]string {
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			continue
		}
		if o := s.find("ConfigMap", ef.ConfigMapRef.Name); o != nil {
			for k, v := range o.Value.(*configMapObj).Data {
				env[ef.Prefix+k] = v
			}
		}
	}
	for _, e := range c.Env {
		if e.Value != nil {
			env[e.Name] = *e.Value
		}
	}
	return env
}

// checkContainers: images, hark command lines, probes on real ports,
// secrets only by reference, the restricted Pod Security Standard, resource
// requests and limits, and time for a worker to finish its work.
func checkContainers(s *manifestSet) []string {
	var errs []string
	for _, w := range s.Workloads {
		spec := &w.Template.Spec
		bad := func(c container, format string, a ...any) {
			errs = append(errs, fmt.Sprintf("%s: container %s: %s", w.Obj, c.Name, fmt.Sprintf(format, a...)))
		}
		if len(spec.Containers) == 0 {
			errs = append(errs, fmt.Sprintf("%s: no containers", w.Obj))
		}
		if _, ok := w.Obj.Value.(*jobObj); ok {
			if spec.RestartPolicy != "Never" && spec.RestartPolicy != "OnFailure" {
				errs = append(errs, fmt.Sprintf("%s: a Job's restartPolicy must be Never or OnFailure, got %q", w.Obj, spec.RestartPolicy))
			}
		}
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			errs = append(errs, fmt.Sprintf("%s: set automountServiceAccountToken: false (nothing here talks to the Kubernetes API)", w.Obj))
		}
		psc := spec.SecurityContext
		if psc == nil {
			psc = &podSecurityContext{}
		}
		if psc.SeccompProfile == nil || psc.SeccompProfile.Type != "RuntimeDefault" {
			errs = append(errs, fmt.Sprintf("%s: securityContext.seccompProfile.type must be RuntimeDefault", w.Obj))
		}
		// *_FILE variables must point at a file of a mounted Secret.
		secretFiles := func(c container) map[string]bool {
			files := map[string]bool{}
			for _, m := range c.VolumeMounts {
				for _, v := range spec.Volumes {
					if v.Name != m.Name || v.Secret == nil {
						continue
					}
					keys := v.Secret.Items
					if len(keys) == 0 {
						all, _ := s.keysOf("Secret", v.Secret.SecretName)
						for _, k := range all {
							keys = append(keys, keyToPath{Key: k, Path: k})
						}
					}
					for _, k := range keys {
						files[filepath.Join(m.MountPath, k.Path)] = true
					}
				}
			}
			return files
		}
		for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
			if c.Image == "" {
				bad(c, "no image")
			}
			if isHarkImage(c.Image) {
				if len(c.Command) > 0 {
					bad(c, "command %q replaces the image's entrypoint (hark): give the subcommand in args", c.Command)
				}
				for _, e := range checkHarkArgs(c.Args) {
					bad(c, "%s", e)
				}
				if len(c.Args) > 0 && c.Args[0] == "worker" {
					if g := spec.TerminationGracePeriodSeconds; g == nil || *g < 300 {
						errs = append(errs, fmt.Sprintf("%s: terminationGracePeriodSeconds must give a worker time to finish a transcription (300s or more)", w.Obj))
					}
				}
			}
			for _, a := range slices.Concat(c.Command, c.Args) {
				if why := secretIn(a); why != "" {
					bad(c, "argument %q looks like %s: pass secrets as files (HARK_*_FILE)", a, why)
				}
			}
			files := secretFiles(c)
			for _, e := range c.Env {
				if e.Value != nil {
					if why := checkSecretEnv(e.Name, *e.Value); why != "" {
						bad(c, "%s", why)
					}
					if strings.HasSuffix(e.Name, "_FILE") && !files[*e.Value] {
						bad(c, "%s=%s is not a file of a Secret mounted in this container", e.Name, *e.Value)
					}
				} else if e.ValueFrom == nil {
					bad(c, "env %s has neither value nor valueFrom", e.Name)
				}
			}
			for _, np := range []struct {
				name string
				p    *probe
			}{{"readinessProbe", c.ReadinessProbe}, {"livenessProbe", c.LivenessProbe}, {"startupProbe", c.StartupProbe}} {
				name, p := np.name, np.p
				if p == nil {
					continue
				}
				var port intOrString
				switch {
				case p.HTTPGet != nil:
					port = p.HTTPGet.Port
				case p.TCPSocket != nil:
					port = p.TCPSocket.Port
				case p.GRPC != nil:
					port = intOrString{strconv.Itoa(p.GRPC.Port), true}
				case p.Exec != nil:
					continue
				default:
					bad(c, "%s has no action", name)
					continue
				}
				if !containerHasPort(c, port) {
					bad(c, "%s probes port %q, which is not one of its ports", name, port.Value)
				}
			}
			if isHarkImage(c.Image) && len(c.Args) > 0 && slices.Contains([]string{"worker", "serve"}, c.Args[0]) {
				if c.ReadinessProbe == nil || c.LivenessProbe == nil {
					bad(c, "hark %s needs a readinessProbe (/readyz) and a livenessProbe (/healthz)", c.Args[0])
				}
			}
			sc := c.SecurityContext
			if sc == nil {
				sc = &containerSecurityContext{}
			}
			nonRoot := (psc.RunAsNonRoot != nil && *psc.RunAsNonRoot) || (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot)
			if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot {
				nonRoot = false
			}
			if !nonRoot {
				bad(c, "must run with runAsNonRoot: true")
			}
			if (psc.RunAsUser != nil && *psc.RunAsUser == 0) || (sc.RunAsUser != nil && *sc.RunAsUser == 0) {
				bad(c, "runAsUser 0 is root")
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				bad(c, "securityContext.allowPrivilegeEscalation must be false")
			}
			if sc.Privileged != nil && *sc.Privileged {
				bad(c, "must not be privileged")
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				bad(c, "securityContext.readOnlyRootFilesystem must be true")
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
				bad(c, "securityContext.capabilities must drop ALL and add none")
			}
			if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
				bad(c, "resources need cpu and memory requests and a memory limit")
			}
		}
	}
	return errs
}

// checkKustomization: kustomization.yaml lists exactly the manifest files,
// without the example Secret (applying it would overwrite the real one).
func checkKustomization(s *manifestSet) []string {
	var k *object
	for _, o := range s.Objects {
		if o.Kind == "Kustomization" {
			k = o
		}
	}
	if k == nil {
		return nil
	}
	var errs []string
	listed := k.Value.(*kustomizationObj).Resources
	for _, r := range listed {
		if !slices.Contains(s.Files, r) {
			errs = append(errs, fmt.Sprintf("%s: resource %s does not exist", k.File, r))
		}
		if strings.Contains(r, "example") {
			errs = append(errs, fmt.Sprintf("%s: lists %s: applying it would replace the real Secret with placeholders", k.File, r))
		}
	}
	for _, f := range s.Files {
		if f == k.File || strings.Contains(f, "example") {
			continue
		}
		if !slices.Contains(listed, f) {
			errs = append(errs, fmt.Sprintf("%s: does not list %s", k.File, f))
		}
	}
	if ns := k.Value.(*kustomizationObj).Namespace; ns != "" && ns != harkNamespace {
		errs = append(errs, fmt.Sprintf("%s: namespace %q, want %q", k.File, ns, harkNamespace))
	}
	return errs
}

// readManifests reads every .yaml file of deploy/k8s.
func readManifests(t *testing.T) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("k8s", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests in deploy/k8s: %v", err)
	}
	files := map[string]string{}
	for _, p := range paths {
		files[filepath.Base(p)] = readFile(t, p)
	}
	return files
}

func TestK8sManifests(t *testing.T) {
	files := readManifests(t)
	set, errs := parseManifests(files)
	wantErrors(t, errs, "")
	wantErrors(t, checkManifests(set), "")

	// What the deployment needs, beyond what any manifest set needs.
	for _, want := range []struct{ kind, name string }{
		{"Namespace", "hark"}, {"ConfigMap", "hark-config"}, {"Secret", "hark-secrets"},
		{"ConfigMap", "hark-nats-config"}, {"Service", "hark-nats-headless"}, {"Service", "hark-nats"},
		{"StatefulSet", "hark-nats"}, {"StatefulSet", "hark-store"}, {"Service", "hark-store"},
		{"Job", "hark-setup"}, {"Deployment", "hark-worker"}, {"Deployment", "hark-web"}, {"Service", "hark-web"},
		{"CronJob", "hark-sweep"},
	} {
		if set.find(want.kind, want.name) == nil {
			t.Errorf("no %s %s in deploy/k8s", want.kind, want.name)
		}
	}
	wantErrors(t, checkDeployment(set), "")
	if got, want := set.find("Secret", "hark-secrets").File, "secret.example.yaml"; got != want {
		t.Errorf("the Secret hark-secrets is in %s, want it only in %s", got, want)
	}
}

// checkDeployment checks what hark's deployment needs: three NATS servers,
// as many stream replicas (the setup Job's HARK_REPLICAS or --replicas), and
// a headless Service for the routes.
func checkDeployment(s *manifestSet) []string {
	var errs []string
	nats, _ := s.find("StatefulSet", "hark-nats").Value.(*statefulSetObj)
	setup, _ := s.find("Job", "hark-setup").Value.(*jobObj)
	if nats == nil || setup == nil {
		return []string{"no StatefulSet hark-nats or Job hark-setup"}
	}
	servers := 0
	if nats.Spec.Replicas != nil {
		servers = *nats.Spec.Replicas
	}
	if servers != 3 {
		errs = append(errs, fmt.Sprintf("StatefulSet hark-nats has %d servers, want 3", servers))
	}
	if headless := s.find("Service", nats.Spec.ServiceName); headless != nil {
		if svc := headless.Value.(*serviceObj); svc.Spec.ClusterIP != "None" || !svc.Spec.PublishNotReadyAddresses {
			errs = append(errs, fmt.Sprintf("Service %s: the routes need a headless Service (clusterIP: None) that publishes not-ready addresses", nats.Spec.ServiceName))
		}
	}
	for _, c := range setup.Spec.Template.Spec.Containers {
		if len(c.Args) == 0 || c.Args[0] != "setup" {
			continue
		}
		replicas := s.envOf(c)["HARK_REPLICAS"]
		for i, a := range c.Args {
			if a == "--replicas" && i+1 < len(c.Args) {
				replicas = c.Args[i+1]
			} else if v, ok := strings.CutPrefix(a, "--replicas="); ok {
				replicas = v
			}
		}
		if n, err := strconv.Atoi(replicas); err != nil || n != servers {
			errs = append(errs, fmt.Sprintf("Job hark-setup makes streams with %q replicas (HARK_REPLICAS or --replicas), want %d, one per NATS server", replicas, servers))
		}
	}
	return errs
}

func TestNATSClusterConfigMap(t *testing.T) {
	set, errs := parseManifests(readManifests(t))
	wantErrors(t, errs, "")
	cm := set.find("ConfigMap", "hark-nats-config")
	if cm == nil {
		t.Fatal("no ConfigMap hark-nats-config")
	}
	got := cm.Value.(*configMapObj).Data["nats.conf"]
	want := readFile(t, filepath.Join("nats", "nats-cluster.conf"))
	if strings.TrimSpace(got) != strings.TrimSpace(want) {
		t.Errorf("ConfigMap hark-nats-config nats.conf differs from deploy/nats/nats-cluster.conf: copy the file into k8s/nats.yaml")
	}
	var mounted bool
	for _, v := range set.find("StatefulSet", "hark-nats").Value.(*statefulSetObj).Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == "hark-nats-config" {
			mounted = true
		}
	}
	if !mounted {
		t.Error("StatefulSet hark-nats does not mount the ConfigMap hark-nats-config")
	}
}

// Deployment-specific checks, each shown to fail on the real manifests.
func TestCheckDeploymentFails(t *testing.T) {
	for _, tc := range []struct{ name, file, old, new, want string }{
		{"streams R5", "configmap.yaml", `HARK_REPLICAS: "3"`, `HARK_REPLICAS: "5"`, `"5" replicas`},
		{"two servers", "nats.yaml", "  replicas: 3\n", "  replicas: 2\n", "2 servers"},
		{"not headless", "nats.yaml", "  clusterIP: None\n", "", "headless"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := readManifests(t)
			files[tc.file] = mutate(t, files[tc.file], tc.old, tc.new)
			set, errs := parseManifests(files)
			wantErrors(t, errs, "")
			wantErrors(t, checkDeployment(set), tc.want)
		})
	}
}

// k8sFixture is a small valid manifest set; each case of TestCheckManifests
// breaks one thing in it. Selectors are written in flow style and some
// lines carry comments so that each edit is unique.
var k8sFixture = map[string]string{
	"namespace.yaml": `apiVersion: v1
kind: Namespace
metadata:
  name: hark
`,
	"config.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: hark-config # the config
  namespace: hark
data:
  HARK_NATS_URL: nats://hark-nats:4222
`,
	"secret.example.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: hark-secrets
  namespace: hark
stringData:
  nats-token: REPLACE
  db: postgres://hark:REPLACE@db/hark
`,
	"worker.yaml": `apiVersion: v1
kind: Service
metadata:
  name: hark-worker
  namespace: hark
spec:
  selector: {app: hark, component: worker}
  ports:
    - port: 9090
      targetPort: ops # service
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hark-worker
  namespace: hark
spec:
  replicas: 2
  selector:
    matchLabels: {app: hark, component: worker}
  template:
    metadata:
      labels:
        app: hark
        component: worker # template
    spec:
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 600
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: worker
          image: hark:local
          args: ["worker", "--http", "0.0.0.0:9090"]
          envFrom:
            - configMapRef: {name: hark-config}
          env:
            - name: HARK_NATS_TOKEN_FILE
              value: /run/secrets/hark/nats-token
            - name: HARK_DB_FILE
              value: /run/secrets/hark/db
          ports:
            - name: ops
              containerPort: 9090
          readinessProbe:
            httpGet: {path: /readyz, port: ops}
          livenessProbe:
            httpGet: {path: /healthz, port: 9090}
          resources:
            requests: {cpu: 500m, memory: 512Mi}
            limits: {memory: 2Gi}
          securityContext:
            allowPrivilegeEscalation: false # worker
            readOnlyRootFilesystem: true # worker
            capabilities: {drop: [ALL]} # worker
          volumeMounts:
            - {name: secrets, mountPath: /run/secrets/hark, readOnly: true}
      volumes:
        - name: secrets
          secret:
            secretName: hark-secrets
            items:
              - {key: nats-token, path: nats-token}
              - {key: db, path: db}
`,
	"store.yaml": `apiVersion: v1
kind: Service
metadata:
  name: hark-store
  namespace: hark
spec:
  selector: {app: hark, component: store}
  ports:
    - port: 7070
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: hark-store
  namespace: hark
spec:
  serviceName: hark-store
  selector:
    matchLabels: {app: hark, component: store}
  template:
    metadata:
      labels: {app: hark, component: store}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: store
          image: registry.example.org/team/hark:0.1.0
          args: ["store", "--root", "/data"]
          ports:
            - containerPort: 7070
          resources:
            requests: {cpu: 100m, memory: 64Mi}
            limits: {memory: 1Gi}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
          volumeMounts:
            - {name: data, mountPath: /data}
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: hark-setup
  namespace: hark
spec:
  template:
    spec:
      restartPolicy: OnFailure
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: setup
          image: hark:local
          args: ["setup"]
          env:
            - name: NATS_TOKEN
              valueFrom:
                secretKeyRef: {name: hark-secrets, key: nats-token}
          resources:
            requests: {cpu: 50m, memory: 64Mi}
            limits: {memory: 256Mi}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
`,
	"kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: hark
resources:
  - namespace.yaml
  - config.yaml
  - worker.yaml
  - store.yaml
`,
}

func TestCheckManifests(t *testing.T) {
	for _, tc := range []struct{ name, file, old, new, want string }{
		{"valid", "", "", "", ""},
		// parsing
		{"yaml syntax", "config.yaml", "\ndata:\n", "\ndata:\n  - [\n", "document 1"},
		{"no kind", "namespace.yaml", "kind: Namespace\n", "", "no apiVersion or kind"},
		{"unknown kind", "config.yaml", "kind: ConfigMap", "kind: ConfigMapp", `unknown kind "ConfigMapp"`},
		{"wrong apiVersion", "store.yaml", "apiVersion: batch/v1", "apiVersion: apps/v1", `want "batch/v1" for Job`},
		{"no name", "config.yaml", "  name: hark-config # the config\n", "", "no metadata.name"},
		{"misspelt field", "worker.yaml", "readinessProbe:", "readinesProbe:", "field readinesProbe not found"},
		{"misplaced field", "worker.yaml", "      terminationGracePeriodSeconds: 600\n", "      terminationGracePeriodSeconds: 600\n      replicas: 2\n", "field replicas not found"},
		// objects
		{"other namespace", "config.yaml", "  namespace: hark\n", "  namespace: default\n", `namespace "default"`},
		{"no namespace object", "namespace.yaml", "  name: hark\n", "  name: harkk\n", "no Namespace hark"},
		{"defined twice", "config.yaml", "  HARK_NATS_URL", "  X: y\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: hark-secrets, namespace: hark}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: hark}\ndata:\n  HARK_NATS_URL", "defined twice"},
		// selectors
		{"selector not in template", "worker.yaml", "    matchLabels: {app: hark, component: worker}", "    matchLabels: {app: hark, component: wrker}", "are not all in spec.template.metadata.labels"},
		{"empty selector", "worker.yaml", "    matchLabels: {app: hark, component: worker}", "    matchLabels: {}", "matchLabels is empty"},
		{"selector matches another workload", "worker.yaml", "    matchLabels: {app: hark, component: worker}", "    matchLabels: {app: hark}", "also matches the pods of"},
		{"service selects nothing", "worker.yaml", "  selector: {app: hark, component: worker}", "  selector: {app: hark, component: web}", "matches the pods of 0 workloads"},
		{"service selects two", "worker.yaml", "  selector: {app: hark, component: worker}", "  selector: {app: hark}", "matches the pods of 2 workloads"},
		{"service target port", "worker.yaml", "targetPort: ops # service", "targetPort: metrics", `targets "metrics"`},
		{"service port without target", "store.yaml", "    - port: 7070\n", "    - port: 7071\n", `targets "7071"`},
		{"statefulset service", "store.yaml", "  serviceName: hark-store", "  serviceName: hark-store-headless", `serviceName "hark-store-headless"`},
		// references
		{"configMapRef", "worker.yaml", "configMapRef: {name: hark-config}", "configMapRef: {name: hark-conf}", `ConfigMap "hark-conf"`},
		{"secretRef", "worker.yaml", "configMapRef: {name: hark-config}", "secretRef: {name: hark-secret}", `Secret "hark-secret"`},
		{"secretKeyRef name", "store.yaml", "secretKeyRef: {name: hark-secrets, key: nats-token}", "secretKeyRef: {name: nats-secrets, key: nats-token}", `Secret "nats-secrets"`},
		{"secretKeyRef key", "store.yaml", "secretKeyRef: {name: hark-secrets, key: nats-token}", "secretKeyRef: {name: hark-secrets, key: token}", `key "token"`},
		{"configMapKeyRef", "store.yaml", "secretKeyRef: {name: hark-secrets, key: nats-token}", "configMapKeyRef: {name: hark-config, key: HARK_NATS}", `key "HARK_NATS"`},
		{"volume secret", "worker.yaml", "secretName: hark-secrets", "secretName: hark-secret", `Secret "hark-secret"`},
		{"volume item key", "worker.yaml", "{key: db, path: db}", "{key: dsn, path: db}", `key "dsn"`},
		{"volume configMap", "worker.yaml", "          secret:\n            secretName: hark-secrets\n", "          configMap:\n            name: nope\n", `ConfigMap "nope"`},
		{"volume mount", "worker.yaml", "{name: secrets, mountPath", "{name: secret, mountPath", `mounts volume "secret"`},
		{"volume without source", "worker.yaml", "          secret:\n            secretName: hark-secrets\n            items:\n              - {key: nats-token, path: nats-token}\n              - {key: db, path: db}\n", "", "has no source"},
		// containers
		{"no image", "worker.yaml", "image: hark:local", `image: ""`, "no image"},
		{"not a subcommand", "worker.yaml", `args: ["worker",`, `args: ["work",`, `"work" is not a hark subcommand`},
		{"command replaces entrypoint", "store.yaml", `args: ["store", "--root", "/data"]`, `command: ["hark", "store", "--root", "/data"]`, "replaces the image's entrypoint"},
		{"unknown flag", "worker.yaml", `"--http", "0.0.0.0:9090"`, `"--listen", "0.0.0.0:9090"`, "has no flag --listen"},
		{"flag without value", "store.yaml", `"--root", "/data"]`, `"--root"]`, "needs a value"},
		{"password in args", "worker.yaml", `"--http", "0.0.0.0:9090"]`, `"--http", "0.0.0.0:9090", "--db", "postgres://hark:pw@db/hark"]`, "a URL with a password"},
		{"token in args", "store.yaml", `image: registry.example.org/team/hark:0.1.0`, `image: nats:2.12` + "\n          command: [\"nats-server\", \"--auth\", \"abc\"]", "a flag that takes a secret"},
		{"secret env literal", "worker.yaml", "- name: HARK_NATS_TOKEN_FILE\n              value: /run/secrets/hark/nats-token", "- name: HARK_NATS_TOKEN\n              value: abc", "HARK_NATS_TOKEN holds a secret"},
		{"DSN env literal", "worker.yaml", "- name: HARK_DB_FILE\n              value: /run/secrets/hark/db", "- name: HARK_DATABASE\n              value: postgres://hark:pw@db/hark", "URL with a password"},
		{"_FILE not mounted", "worker.yaml", "value: /run/secrets/hark/db", "value: /run/secrets/db", "is not a file of a Secret mounted"},
		{"_FILE not among items", "worker.yaml", "              - {key: db, path: db}\n", "", "HARK_DB_FILE=/run/secrets/hark/db is not a file"},
		{"env without value", "store.yaml", "              valueFrom:\n                secretKeyRef: {name: hark-secrets, key: nats-token}\n", "", "neither value nor valueFrom"},
		{"probe port", "worker.yaml", "httpGet: {path: /healthz, port: 9090}", "httpGet: {path: /healthz, port: 9091}", `livenessProbe probes port "9091"`},
		{"named probe port", "worker.yaml", "httpGet: {path: /readyz, port: ops}", "httpGet: {path: /readyz, port: http}", `readinessProbe probes port "http"`},
		{"probe without action", "worker.yaml", "httpGet: {path: /readyz, port: ops}", "periodSeconds: 10", "readinessProbe has no action"},
		{"worker without readiness", "worker.yaml", "          readinessProbe:\n            httpGet: {path: /readyz, port: ops}\n", "", "needs a readinessProbe"},
		{"root", "worker.yaml", "        runAsNonRoot: true\n        runAsUser: 10001\n", "        runAsUser: 0\n", "runAsNonRoot: true"},
		{"uid 0", "worker.yaml", "        runAsUser: 10001\n", "        runAsUser: 0\n", "runAsUser 0 is root"},
		{"privilege escalation", "worker.yaml", "allowPrivilegeEscalation: false # worker", "allowPrivilegeEscalation: true # worker", "allowPrivilegeEscalation must be false"},
		{"writable root", "worker.yaml", "readOnlyRootFilesystem: true # worker", "readOnlyRootFilesystem: false # worker", "readOnlyRootFilesystem must be true"},
		{"capabilities", "worker.yaml", "capabilities: {drop: [ALL]} # worker", "capabilities: {drop: [NET_RAW]} # worker", "must drop ALL"},
		{"seccomp", "worker.yaml", "        seccompProfile: {type: RuntimeDefault}\n      containers:\n        - name: worker", "      containers:\n        - name: worker", "seccompProfile.type must be RuntimeDefault"},
		{"service account token", "worker.yaml", "      automountServiceAccountToken: false\n      terminationGracePeriodSeconds", "      terminationGracePeriodSeconds", "automountServiceAccountToken: false"},
		{"no limits", "worker.yaml", "            limits: {memory: 2Gi}\n", "", "memory limit"},
		{"short grace", "worker.yaml", "terminationGracePeriodSeconds: 600", "terminationGracePeriodSeconds: 30", "time to finish a transcription"},
		{"job restart", "store.yaml", "restartPolicy: OnFailure", "restartPolicy: Always", "restartPolicy must be Never or OnFailure"},
		// kustomization
		{"kustomization lists a missing file", "kustomization.yaml", "  - store.yaml\n", "  - store.yaml\n  - web.yaml\n", "resource web.yaml does not exist"},
		{"kustomization misses a file", "kustomization.yaml", "  - store.yaml\n", "", "does not list store.yaml"},
		{"kustomization applies the example", "kustomization.yaml", "  - store.yaml\n", "  - store.yaml\n  - secret.example.yaml\n", "replace the real Secret with placeholders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := maps.Clone(k8sFixture)
			if tc.file != "" {
				files[tc.file] = mutate(t, files[tc.file], tc.old, tc.new)
			}
			set, errs := parseManifests(files)
			wantErrors(t, append(errs, checkManifests(set)...), tc.want)
		})
	}
}

func TestIsHarkImage(t *testing.T) {
	for image, want := range map[string]bool{
		"hark": true, "hark:local": true, "ghcr.io/harkworks/hark:0.1": true, "localhost:5000/hark": true,
		"registry.example.org/team/hark@sha256:abc": true, "nats:2.12": false, "harkness:1": false, "ghcr.io/x/hark-ui:1": false,
	} {
		if got := isHarkImage(image); got != want {
			t.Errorf("isHarkImage(%q) = %v, want %v", image, got, want)
		}
	}
}
