// Package deploy holds hark's team deployment files — the Dockerfile, the
// Compose file, the NATS configurations and the Kubernetes manifests — and
// the tests that check them without a cluster or a network (see
// docs/deploy.md). It has no Go code of its own.
package deploy
