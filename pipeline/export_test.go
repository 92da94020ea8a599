package pipeline

import (
	"context"
	"log/slog"
	"time"

	"github.com/harkworks/hark"
)

// StateStore gives the tests in package pipeline_test the state store's
// operations, as the stages call them.
type StateStore struct{ s *stateStore }

// NewStateStore returns the state store the stages use, over store and idx.
func NewStateStore(store hark.ObjectStore, idx hark.Index, now func() time.Time) StateStore {
	return StateStore{&stateStore{store: store, index: idx, log: slog.New(slog.DiscardHandler), now: now}}
}

func (t StateStore) Load(ctx context.Context, id string) (*hark.Recording, error) {
	return t.s.load(ctx, id)
}

func (t StateStore) Save(ctx context.Context, rec *hark.Recording) error { return t.s.save(ctx, rec) }

func (t StateStore) Claim(ctx context.Context, d hark.Delivery, rec *hark.Recording) (bool, error) {
	return t.s.claim(ctx, d, rec)
}

func (t StateStore) Owns(ctx context.Context, rec *hark.Recording) error { return t.s.owns(ctx, rec) }

func (t StateStore) PutLeased(ctx context.Context, id, key string, v any, lease int) error {
	return t.s.putLeased(ctx, id, key, v, lease)
}

func (t StateStore) GetJSON(ctx context.Context, key string, v any) error {
	return t.s.getJSON(ctx, key, v)
}
