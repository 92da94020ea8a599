package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/index"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/pipeline"
)

// The state store keeps a recording's state and leased results in the
// object store and the index. These tests run it against the S3 server hark
// embeds and an SQLite index.

// stateBundle is what a state store test works with.
type stateBundle struct {
	ctx    context.Context
	st     *ingest.Store
	idx    *index.DB
	states pipeline.StateStore
	now    time.Time
}

func setupStates(t *testing.T) *stateBundle {
	t.Helper()
	st, idx := startStore(t, t.TempDir())
	b := &stateBundle{ctx: context.Background(), st: st, idx: idx, now: time.Date(2026, 11, 26, 11, 21, 16, 0, time.UTC)}
	b.states = pipeline.NewStateStore(st, idx, func() time.Time { return b.now })
	return b
}

// recording returns a new recording of key, as the transcribe stage makes
// it from an upload, not yet stored anywhere.
func (b *stateBundle) recording(key string) *hark.Recording {
	etag := "0123456789abcdef0123456789abcdef"
	return &hark.Recording{Schema: hark.SchemaVersion, ID: hark.RecordingID("recordings", key, etag), Bucket: "recordings",
		Key: key, ETag: etag, Size: 42, Team: "north", Status: hark.StatusUploaded, CreatedAt: b.now, UpdatedAt: b.now}
}

// put stores v as JSON at key, bypassing the state store.
func (b *stateBundle) put(t *testing.T, key string, v any) {
	t.Helper()
	data, _ := json.Marshal(v)
	if _, err := b.st.Put(b.ctx, key, bytes.NewReader(data), int64(len(data)), "application/json", nil); err != nil {
		t.Fatal(err)
	}
}

// leases returns the recording's lease in the index and in the object store.
func (b *stateBundle) leases(t *testing.T, id string) (indexed, stored int) {
	t.Helper()
	rec, err := b.idx.Recording(b.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var doc hark.Recording
	readJSON(t, b.st, hark.RecordingKey(id), &doc)
	return rec.Lease, doc.Lease
}

func TestStateStoreClaim(t *testing.T) {
	b := setupStates(t)
	rec := b.recording("north/visit.wav")
	rec.Status = hark.StatusTranscribing

	t.Run("takes a new recording on", func(t *testing.T) {
		d := &delivery{attempt: 1}
		ok, err := b.states.Claim(b.ctx, d, rec)
		if err != nil || !ok {
			t.Fatalf("claim: %v, %v; want true, nil", ok, err)
		}
		if rec.Lease != 1 || d.Claimed(rec.ID) != 1 {
			t.Errorf("lease %d, delivery claimed %d; want 1, 1", rec.Lease, d.Claimed(rec.ID))
		}
		if indexed, stored := b.leases(t, rec.ID); indexed != 1 || stored != 1 {
			t.Errorf("lease %d in the index, %d in the store; want 1 in both", indexed, stored)
		}
	})

	t.Run("a worker with an older copy does not", func(t *testing.T) {
		old := *rec
		old.Lease = 0
		d := &delivery{attempt: 1}
		ok, err := b.states.Claim(b.ctx, d, &old)
		if err != nil || ok {
			t.Fatalf("claim: %v, %v; want false, nil (another worker has it)", ok, err)
		}
		if d.Claimed(rec.ID) != 0 {
			t.Errorf("the delivery remembers lease %d, want none", d.Claimed(rec.ID))
		}
		if indexed, stored := b.leases(t, rec.ID); indexed != 1 || stored != 1 {
			t.Errorf("lease %d in the index, %d in the store; want 1 in both", indexed, stored)
		}
	})

	t.Run("catches up with a store ahead of the index", func(t *testing.T) {
		// The index was restored from a backup: the store's copy holds a
		// later lease than the index knows of.
		ahead := *rec
		ahead.Lease = 9
		b.put(t, hark.RecordingKey(rec.ID), &ahead)
		ok, err := b.states.Claim(b.ctx, &delivery{attempt: 1}, rec)
		if err != nil || !ok {
			t.Fatalf("claim: %v, %v; want true, nil", ok, err)
		}
		if indexed, stored := b.leases(t, rec.ID); rec.Lease != 10 || indexed != 10 || stored != 10 {
			t.Errorf("lease %d, %d in the index, %d in the store; want 10 everywhere (above the stored 9)", rec.Lease, indexed, stored)
		}
	})
}

func TestStateStoreOwns(t *testing.T) {
	b := setupStates(t)
	first := b.recording("north/visit.wav")
	if ok, err := b.states.Claim(b.ctx, &delivery{attempt: 1}, first); !ok {
		t.Fatalf("first claim: %v", err)
	}
	second := *first
	if ok, err := b.states.Claim(b.ctx, &delivery{attempt: 2}, &second); !ok {
		t.Fatalf("the claim that takes over: %v", err)
	}
	for _, tc := range []struct {
		name string
		rec  *hark.Recording
		want string // error code; "" for none
	}{
		{"the attempt that took over", &second, ""},
		{"the attempt taken over", first, hark.ECONFLICT},
		{"a recording the index does not have", b.recording("north/other.wav"), hark.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := b.states.Owns(b.ctx, tc.rec); hark.ErrorCode(err) != tc.want {
				t.Errorf("owns: %v, want code %q", err, tc.want)
			}
		})
	}
}

func TestStateStorePutLeased(t *testing.T) {
	b := setupStates(t)
	rec := b.recording("north/visit.wav")
	for range 2 { // the index holds lease 2
		if ok, err := b.states.Claim(b.ctx, &delivery{attempt: 1}, rec); !ok {
			t.Fatalf("claim: %v", err)
		}
	}
	type doc struct {
		Lease int    `json:"lease"`
		Text  string `json:"text"`
	}
	for _, tc := range []struct {
		name   string
		id     string // the recording the document belongs to
		stored *doc   // what the store holds before; nil: nothing
		lease  int    // the lease the write is made under
		want   string // error code; "" for none
		after  string // the text stored after the write
	}{
		{"creates a missing document", rec.ID, nil, 2, "", "new"},
		{"replaces one of the same lease", rec.ID, &doc{2, "old"}, 2, "", "new"},
		{"replaces one of an older lease", rec.ID, &doc{1, "old"}, 2, "", "new"},
		{"refuses to replace a later lease", rec.ID, &doc{3, "old"}, 2, hark.ECONFLICT, "old"},
		{"puts back what a taken-over attempt overwrote", rec.ID, &doc{1, "old"}, 1, hark.ECONFLICT, "old"},
		{"writes for a recording the index does not have", b.recording("north/other.wav").ID, &doc{0, "old"}, 1, "", "new"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := hark.AnnotationsKey(tc.id)
			if err := b.st.Remove(b.ctx, key); err != nil {
				t.Fatal(err)
			}
			if tc.stored != nil {
				b.put(t, key, tc.stored)
			}
			err := b.states.PutLeased(b.ctx, tc.id, key, &doc{tc.lease, "new"}, tc.lease)
			if hark.ErrorCode(err) != tc.want {
				t.Errorf("put: %v, want code %q", err, tc.want)
			}
			var got doc
			readJSON(t, b.st, key, &got)
			if got.Text != tc.after {
				t.Errorf("stored %+v after the write, want text %q", got, tc.after)
			}
		})
	}
}

func TestStateStoreSaveAndLoad(t *testing.T) {
	b := setupStates(t)
	rec := b.recording("north/visit.wav")
	rec.Fail(hark.StageIngest, "the object was not found", b.now)
	if err := b.states.Save(b.ctx, rec); err != nil {
		t.Fatalf("save a recording nobody has taken on: %v", err)
	}
	if got, err := b.idx.Recording(b.ctx, rec.ID); err != nil || got.Status != hark.StatusFailed {
		t.Fatalf("index after save: %+v, %v; want it failed", got, err)
	}
	var stored hark.Recording
	readJSON(t, b.st, hark.RecordingKey(rec.ID), &stored)
	if stored.Status != hark.StatusFailed || stored.Reason != rec.Reason {
		t.Fatalf("store after save: %s %q; want failed %q", stored.Status, stored.Reason, rec.Reason)
	}

	t.Run("a stale copy is not saved", func(t *testing.T) {
		taken := *rec
		if ok, err := b.states.Claim(b.ctx, &delivery{attempt: 1}, &taken); !ok {
			t.Fatalf("claim: %v", err)
		}
		stale := *rec
		stale.Status = hark.StatusReady
		if err := b.states.Save(b.ctx, &stale); hark.ErrorCode(err) != hark.ECONFLICT {
			t.Fatalf("save under an old lease: %v, want ECONFLICT", err)
		}
		got, err := b.states.Load(b.ctx, rec.ID)
		if err != nil || got.Status != hark.StatusFailed || got.Lease != taken.Lease {
			t.Fatalf("load: %+v, %v; want the copy that took it on", got, err)
		}
	})

	t.Run("load falls back to the store", func(t *testing.T) {
		only := b.recording("north/only-in-store.wav")
		b.put(t, hark.RecordingKey(only.ID), only)
		got, err := b.states.Load(b.ctx, only.ID)
		if err != nil || got.ID != only.ID || got.Key != only.Key {
			t.Fatalf("load: %+v, %v; want the store's copy", got, err)
		}
	})

	t.Run("load of a recording nobody has", func(t *testing.T) {
		if _, err := b.states.Load(b.ctx, b.recording("north/nowhere.wav").ID); hark.ErrorCode(err) != hark.ENOTFOUND {
			t.Fatalf("load: %v, want ENOTFOUND", err)
		}
	})
}

func TestStateStoreGetJSON(t *testing.T) {
	b := setupStates(t)
	data := []byte("not JSON")
	if _, err := b.st.Put(b.ctx, "results/garbled.json", bytes.NewReader(data), int64(len(data)), "application/json", nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key, want string
	}{
		{"results/garbled.json", hark.EINTERNAL},
		{"results/missing.json", hark.ENOTFOUND},
	} {
		var v map[string]any
		if err := b.states.GetJSON(b.ctx, tc.key, &v); hark.ErrorCode(err) != tc.want {
			t.Errorf("%s: %v, want code %q", tc.key, err, tc.want)
		}
	}
}
