package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/harkworks/hark"
)

// Endpoints is what `hark up` writes to <data-dir>/endpoints.json so that
// other hark commands find its servers.
type Endpoints struct {
	Schema int    `json:"schema"`
	NATS   string `json:"nats"`
	S3     string `json:"s3"`
	Bucket string `json:"bucket"`
	HTTP   string `json:"http"`
	PID    int    `json:"pid"`
}

// Secrets are the embedded servers' credentials, generated once and kept in
// <data-dir>/secrets.json, readable by the owner only.
type Secrets struct {
	S3AccessKey string `json:"s3_access_key"`
	S3SecretKey string `json:"s3_secret_key"`
	NATSToken   string `json:"nats_token"`
}

const (
	endpointsFile = "endpoints.json"
	secretsFile   = "secrets.json"
)

func readEndpoints(dataDir string) (*Endpoints, error) {
	var e Endpoints
	data, err := os.ReadFile(filepath.Join(dataDir, endpointsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, hark.Errorf(hark.EUNAVAILABLE, "no hark servers found: %s does not exist; start them with `hark up --data-dir %s` (or give --s3 and --nats)", filepath.Join(dataDir, endpointsFile), dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("read endpoints: %w", err)
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "%s is corrupt; restart `hark up`", filepath.Join(dataDir, endpointsFile))
	}
	return &e, nil
}

func writeJSONFile(path string, v any, perm os.FileMode) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// loadOrCreateSecrets returns the data dir's secrets, generating them on first use.
func loadOrCreateSecrets(dataDir string) (*Secrets, error) {
	path := filepath.Join(dataDir, secretsFile)
	var s Secrets
	data, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, hark.WrapError(hark.EINVALID, err, "%s is corrupt; remove it to generate new credentials", path)
		}
		return &s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	s = Secrets{S3AccessKey: "hark" + randomHex(8), S3SecretKey: randomHex(20), NATSToken: randomHex(20)}
	if err := writeJSONFile(path, &s, 0o600); err != nil {
		return nil, err
	}
	return &s, nil
}

func readSecrets(dataDir string) (*Secrets, error) {
	var s Secrets
	data, err := os.ReadFile(filepath.Join(dataDir, secretsFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &s, nil
		}
		return nil, fmt.Errorf("read secrets: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "%s is corrupt", filepath.Join(dataDir, secretsFile))
	}
	return &s, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
