package pipeline

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"time"

	"github.com/harkworks/hark"
)

// stateStore keeps what hark knows of each recording in its two places: the
// object store, the system of record from which reindex rebuilds
// everything, and the index, which the stages ask first and which holds the
// lease that fences a stalled attempt out. A stage takes a recording on
// with claim, checks with owns that it still holds it, and writes its state
// and leased results through save and putLeased, so that of two attempts
// racing only the newer one's copies stand in either place.
type stateStore struct {
	store hark.ObjectStore
	index hark.Index
	log   *slog.Logger
	now   func() time.Time
}

// load reads a recording from the index, falling back to the object store
// (the system of record) when the index does not have it. It returns
// ENOTFOUND when neither has it.
func (s *stateStore) load(ctx context.Context, id string) (*hark.Recording, error) {
	rec, err := s.index.Recording(ctx, id)
	if hark.ErrorCode(err) != hark.ENOTFOUND {
		return rec, err
	}
	if err := s.erased(ctx, id); err != nil {
		return nil, err
	}
	var r hark.Recording
	if err := s.getJSON(ctx, hark.RecordingKey(id), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// save writes the recording's state to the object store, then to the
// index. The index goes last because a redelivery decides what is left to
// do from the index: were the index written first and the store write
// failed, the redelivery would find the step done and ack, and the store —
// the system of record, from which reindex rebuilds the index — would keep
// the old state for good. A stale attempt is fenced out before the store
// write (owns) and again by the index (ECONFLICT).
func (s *stateStore) save(ctx context.Context, rec *hark.Recording) error {
	rec.Schema = hark.SchemaVersion
	if err := s.owns(ctx, rec); err != nil && hark.ErrorCode(err) != hark.ENOTFOUND {
		return err
	}
	if err := s.putLeased(ctx, rec.ID, hark.RecordingKey(rec.ID), rec, rec.Lease); err != nil {
		return err
	}
	return s.index.PutRecording(ctx, rec)
}

// claim takes the recording on for this attempt: it bumps the lease with a
// compare-and-set in the index, remembers it on the delivery, and writes the
// state to the object store. It reports false, with a nil error, when
// another worker took it first.
func (s *stateStore) claim(ctx context.Context, d hark.Delivery, rec *hark.Recording) (bool, error) {
	for range 3 {
		prev := rec.Lease
		rec.Lease++
		rec.UpdatedAt = s.now()
		if err := s.index.ClaimRecording(ctx, rec, prev); err != nil {
			if hark.ErrorCode(err) == hark.ECONFLICT {
				s.log.Debug("another worker took the recording on first", "recording", rec.ID)
				return false, nil
			}
			// The claim may have been committed all the same (a connection
			// lost at COMMIT): a run again of this delivery must not take
			// its own claim for another message's.
			d.SetClaimed(rec.ID, rec.Lease)
			return false, err
		}
		d.SetClaimed(rec.ID, rec.Lease)
		err := s.putLeased(ctx, rec.ID, hark.RecordingKey(rec.ID), rec, rec.Lease)
		if hark.ErrorCode(err) != hark.ECONFLICT {
			return err == nil, err
		}
		// Refused: either the recording was taken over meanwhile, or the
		// object store holds a later lease than the index, which happens
		// only when the index went back in time (restored from a backup).
		cur, ierr := s.index.Recording(ctx, rec.ID)
		if ierr != nil {
			return false, ierr
		}
		if cur.Lease != rec.Lease {
			return false, nil // taken over
		}
		var stored hark.Recording
		if gerr := s.getJSON(ctx, hark.RecordingKey(rec.ID), &stored); gerr != nil {
			return false, gerr
		}
		s.log.Warn("the object store holds a later lease than the index (was the index restored from a backup?): catching up",
			"recording", rec.ID, "index_lease", rec.Lease, "store_lease", stored.Lease)
		// Claim again above the stored lease, from the one just taken.
		if err := s.index.ClaimRecording(ctx, withLease(rec, stored.Lease), rec.Lease); err != nil {
			return false, dropIfConflict(err)
		}
		rec.Lease = stored.Lease
	}
	return false, hark.Errorf(hark.EUNAVAILABLE, "recording %s: could not take it on (its lease keeps moving)", rec.ID)
}

// withLease returns a copy of rec with the given lease.
func withLease(rec *hark.Recording, lease int) *hark.Recording {
	c := *rec
	c.Lease = lease
	return &c
}

// ownRun reports whether the recording in progress is this delivery's own:
// an earlier run of the same delivery (held by the queue while a dependency
// was down) took it on, and nobody has taken it over since.
func ownRun(d hark.Delivery, rec *hark.Recording) bool {
	return d.Claimed(rec.ID) != 0 && d.Claimed(rec.ID) == rec.Lease
}

// owns returns ECONFLICT when a newer attempt has taken the recording over,
// so that a stalled worker's late results are not written. The index checks
// the lease again in the same statement as each write (the check here
// spares the object store a write that would be refused).
func (s *stateStore) owns(ctx context.Context, rec *hark.Recording) error {
	cur, err := s.index.Recording(ctx, rec.ID)
	if hark.ErrorCode(err) == hark.ENOTFOUND {
		if eerr := s.erased(ctx, rec.ID); eerr != nil {
			return eerr
		}
	}
	if err != nil {
		return err
	}
	if cur.Lease != rec.Lease {
		return hark.Errorf(hark.ECONFLICT, "recording %s: lease %d was taken over by lease %d", rec.ID, rec.Lease, cur.Lease)
	}
	return nil
}

// putLeased writes a document of recording id that carries a lease (its
// state, its annotations) as a compare-and-set on the object store: it
// reads the stored copy and replaces it only if that copy's lease is not
// later than lease and it has not changed since it was read (If-Match on
// its ETag), or creates it if there is none (If-None-Match). Then it checks
// that the attempt still holds its lease in the index: leases only grow, so
// if it does, it held it when it wrote. If not, a newer attempt took the
// recording over before the write landed, and the copy read before is put
// back (unless the newer attempt has written since). Either way a stalled
// attempt gets ECONFLICT and leaves the newer attempt's copy standing.
func (s *stateStore) putLeased(ctx context.Context, id, key string, v any, lease int) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return hark.WrapError(hark.EINTERNAL, err, "encode %s", key)
	}
	const ct = "application/json"
	for range 5 {
		var prev []byte
		var written hark.ObjectInfo
		r, info, err := s.store.Get(ctx, key)
		switch {
		case hark.ErrorCode(err) == hark.ENOTFOUND:
			written, err = s.store.Create(ctx, key, data, ct)
		case err != nil:
			return err
		default:
			prev, err = io.ReadAll(io.LimitReader(r, 64<<20))
			r.Close()
			if err != nil {
				return hark.WrapError(hark.EUNAVAILABLE, err, "read %s", key)
			}
			var stored struct {
				Lease int `json:"lease"`
			}
			_ = json.Unmarshal(prev, &stored) // unreadable: lease 0, replaced only if unchanged
			if stored.Lease > lease {
				return hark.Errorf(hark.ECONFLICT, "%s was written under lease %d; this attempt holds lease %d", key, stored.Lease, lease)
			}
			written, err = s.store.Replace(ctx, key, data, ct, info.ETag)
		}
		if hark.ErrorCode(err) == hark.ECONFLICT {
			continue // another writer got in between: look again
		}
		if err != nil {
			return err
		}
		cur, err := s.index.Recording(ctx, id)
		if hark.ErrorCode(err) == hark.ENOTFOUND {
			return nil // not in the index yet (a failure recorded from an event): nobody owns it
		}
		if err != nil || cur.Lease == lease {
			return err
		}
		// Taken over while this write was on its way. Put the copy read
		// before back, only where the put-back is itself conditional (else
		// it could replace what the newer attempt has written since).
		if prev != nil && s.store.Conditional() {
			if _, err := s.store.Replace(ctx, key, prev, ct, written.ETag); err != nil && hark.ErrorCode(err) != hark.ECONFLICT {
				s.log.Warn("could not put back a document a stalled attempt overwrote", "recording", id, "key", key, "err", err)
			}
		}
		return hark.Errorf(hark.ECONFLICT, "recording %s was taken over (lease %d) while lease %d wrote %s", id, cur.Lease, lease, key)
	}
	return hark.Errorf(hark.EUNAVAILABLE, "%s keeps changing under this attempt; trying again later", key)
}

// getJSON decodes the JSON document stored at key into v. It returns
// ENOTFOUND when there is none, and EINTERNAL when it is not JSON.
func (s *stateStore) getJSON(ctx context.Context, key string, v any) error {
	r, _, err := s.store.Get(ctx, key)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := json.NewDecoder(r).Decode(v); err != nil {
		return hark.WrapError(hark.EINTERNAL, err, "decode %s", key)
	}
	return nil
}

// erasedIndex is an index that remembers erased recordings.
type erasedIndex interface {
	Erased(ctx context.Context, id string) (bool, error)
}

// erased returns hark.Erased when recording id was erased (hark forget),
// an error when the index cannot say, and nil otherwise.
func (s *stateStore) erased(ctx context.Context, id string) error {
	ei, ok := s.index.(erasedIndex)
	if !ok {
		return nil
	}
	gone, err := ei.Erased(ctx, id)
	if err != nil {
		return err
	}
	if gone {
		return hark.Erased("recording " + id)
	}
	return nil
}
