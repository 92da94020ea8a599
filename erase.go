package hark

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
