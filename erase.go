package hark

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
)

// ErrErased is the cause of the ECONFLICT error the index returns for a
// recording that was erased (`hark forget`): a worker still busy with it
// drops its work and removes what it wrote.
var ErrErased = errors.New("the recording was erased")

// IsErased reports whether err says the recording was erased.
func IsErased(err error) bool { return errors.Is(err, ErrErased) }

// ErasedHash is all that is kept of an erased recording's id: its SHA-256,
// enough to refuse a late write and nothing to read back.
func ErasedHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// Erased is the error an index returns for a write to an erased
// recording; what says what was being written.
func Erased(what string) error {
	return WrapError(ECONFLICT, ErrErased, "%s: the recording was erased (hark forget); its results are dropped", what)
}

// RemoveAll deletes every object of store whose key starts with prefix,
// and returns how many there were.
func RemoveAll(ctx context.Context, store ObjectStore, prefix string) (int, error) {
	var keys []string
	if err := store.List(ctx, prefix, func(o ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := store.Remove(ctx, k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// Selection names recordings to erase: by id, upload batch, family
// reference, or a team's worker (Team alone narrows Family).
type Selection struct {
	IDs    []string `json:"recordings,omitempty"`
	Batch  string   `json:"batch,omitempty"`
	Family string   `json:"family,omitempty"`
	Team   string   `json:"team,omitempty"`
	Worker string   `json:"worker,omitempty"`
}

// Check says what is wrong with the selection, or nil.
func (s Selection) Check() error {
	if len(s.IDs) == 0 && s.Batch == "" && s.Worker == "" && s.Family == "" {
		return Errorf(EINVALID, "say what to erase: recording ids, a batch, a family's reference, or a team's worker")
	}
	if s.Worker != "" && s.Team == "" {
		return Errorf(EINVALID, "a worker needs a team: a worker id is only unique within a team")
	}
	for _, id := range s.IDs {
		if !ValidRecordingID(id) {
			return Errorf(EINVALID, "%q is not a recording id (rec_…)", id)
		}
	}
	return CheckReference("family", s.Family)
}

// Select returns the recordings the selection names, each once. An id the
// index does not have is ENOTFOUND.
func (s Selection) Select(ctx context.Context, idx Index) ([]*Recording, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []*Recording
	add := func(r *Recording) {
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	for _, id := range s.IDs {
		r, err := idx.Recording(ctx, id)
		if ErrorCode(err) == ENOTFOUND {
			return nil, Errorf(ENOTFOUND, "recording %s not found (erased already?)", id)
		}
		if err != nil {
			return nil, err
		}
		add(r)
	}
	var filters []RecordingFilter
	if s.Batch != "" {
		filters = append(filters, RecordingFilter{Batch: s.Batch, Limit: 10_000_000})
	}
	if s.Worker != "" {
		filters = append(filters, RecordingFilter{Team: s.Team, Worker: s.Worker, Limit: 10_000_000})
	}
	if s.Family != "" {
		filters = append(filters, RecordingFilter{Team: s.Team, Family: s.Family, Limit: 10_000_000})
	}
	for _, f := range filters {
		list, err := idx.Recordings(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, x := range list {
			r := x.Recording
			add(&r)
		}
	}
	return out, nil
}

// ConfirmToken is what a person confirming the erasure of recs gives back:
// it names exactly these recordings, so that the erasure is of what they
// were shown.
func ConfirmToken(recs []*Recording) string {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	slices.Sort(ids)
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	return hex.EncodeToString(sum[:8])
}
