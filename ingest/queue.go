package ingest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/harkworks/hark"
)

// Consumer names: one durable pull consumer per stage.
const (
	ConsumerTranscribe = "transcribe"
	ConsumerAnnotate   = "annotate"
)

// QueueConfig says how to reach NATS and how the work stream is set up.
type QueueConfig struct {
	URL   string
	Token string
	// CAFile is a PEM file of the CA certificates the NATS server's
	// certificate must chain to; set, the connection is TLS (whatever the
	// URL's scheme) and verified against these CAs only. Empty: TLS only
	// for a tls:// URL or a server that asks for it, verified against the
	// system's CAs.
	CAFile string
	// CertFile and KeyFile, both or neither, are a PEM client certificate
	// and key for a server that verifies its clients (mutual TLS).
	CertFile string
	KeyFile  string
	// Stream is the JetStream stream carrying hark's work. Default HARK.
	Stream string
	// Replicas of the stream: 1 on one machine, 3 in a cluster.
	Replicas int
	// AckWait is how long a delivery may go without an ack or an
	// in-progress signal before it is redelivered. Default 60s.
	AckWait time.Duration
	// MaxDeliver is how many times a message is delivered before it is
	// given up on. Default 8.
	MaxDeliver int
	// Logger receives connection events. Default slog.Default().
	Logger *slog.Logger
}

func (c QueueConfig) withDefaults() QueueConfig {
	if c.Stream == "" {
		c.Stream = "HARK"
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.AckWait == 0 {
		c.AckWait = 60 * time.Second
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = 8
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Queue is hark's JetStream work queue.
type Queue struct {
	cfg QueueConfig
	nc  *nats.Conn
	js  jetstream.JetStream

	// depends and holdFor: see HoldWhileDown.
	depends func(context.Context) error
	holdFor time.Duration
	onHold  func(consumer string, delta int)

	connClosed chan struct{} // closed when the connection has closed
	closeOnce  sync.Once
	closeErr   error

	// abort is cancelled by AbortWork: the work in hand is cut short and
	// its messages handed back.
	abort     context.Context
	abortWork context.CancelFunc
}

// AbortWork cuts the work in hand short: the handlers' contexts are
// cancelled (an engine's subprocess is killed), and each message whose
// handler then fails is handed back at once for another worker, never
// recorded as failed however often it was delivered. Run calls it when
// stopping takes longer than its grace (see Stop).
func (q *Queue) AbortWork() {
	if q != nil && q.abortWork != nil {
		q.abortWork()
	}
}

// aborted reports whether AbortWork was called.
func (q *Queue) aborted() bool { return q.abort != nil && q.abort.Err() != nil }

// ObserveHolds has fn told when a message starts (+1) and stops (-1)
// being held, by consumer, for a gauge of held messages. Call it before Run.
func (q *Queue) ObserveHolds(fn func(consumer string, delta int)) { q.onHold = fn }

// HoldWhileDown makes Run keep a message whose handler failed for a reason
// that may pass (EUNAVAILABLE) while depends reports a dependency down (the
// object store, the index): the message stays in progress with this worker,
// which waits for the dependency and then runs the handler again, instead
// of sending it back to the queue, where each redelivery counts towards
// MaxDeliver. An outage longer than the queue's backoff then no longer
// marks recordings failed. A message is held for at most max from the
// first hold, then it goes back to the queue as before (or, on its last
// delivery, its handler runs once more and records the failure). max <= 0
// holds nothing. Call it before Run.
func (q *Queue) HoldWhileDown(depends func(context.Context) error, max time.Duration) {
	if max <= 0 {
		q.depends, q.holdFor = nil, 0
		return
	}
	q.depends, q.holdFor = depends, max
}

var (
	_ hark.Publisher = (*Queue)(nil)
	_ hark.Closer    = (*Queue)(nil)
)

// Connect connects to NATS. It reconnects forever after a lost connection.
func Connect(ctx context.Context, cfg QueueConfig) (*Queue, error) {
	cfg = cfg.withDefaults()
	log := cfg.Logger
	// nats.go may report a connection closed twice (a drain cut short
	// closes it again): connClosed is closed once.
	connClosed := make(chan struct{})
	closed := sync.OnceFunc(func() { close(connClosed) })
	opts := []nats.Option{
		nats.Name("hark"),
		// The handshake's own deadline (2 s by default) is short for a
		// busy machine or a cluster far away; a server that is not there
		// refuses the connection at once, whatever the timeout.
		nats.Timeout(10 * time.Second),
		nats.ClosedHandler(func(*nats.Conn) { closed() }),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted()) }),
	}
	if cfg.Token != "" {
		opts = append(opts, nats.Token(cfg.Token))
	}
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, nats.Secure(tc))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, hark.WrapError(hark.EUNAVAILABLE, err, "connect to NATS at %s", redactURLs(cfg.URL))
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, hark.WrapError(hark.EINTERNAL, err, "jetstream")
	}
	abort, abortWork := context.WithCancel(context.Background())
	return &Queue{cfg: cfg, nc: nc, js: js, connClosed: connClosed, abort: abort, abortWork: abortWork}, nil
}

// redactURLs returns NATS server URLs (comma-separated) with any user,
// password or token in them replaced, for errors and logs.
func redactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		switch {
		case err != nil:
			if strings.Contains(p, "@") {
				parts[i] = "(a URL with credentials)"
			}
		case u.User != nil:
			u.User = url.User("redacted")
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}

// tlsConfig is the TLS configuration CAFile, CertFile and KeyFile ask
// for, or nil when they are empty.
func (c QueueConfig) tlsConfig() (*tls.Config, error) {
	if (c.CertFile == "") != (c.KeyFile == "") {
		return nil, hark.Errorf(hark.EINVALID, "NATS client certificate: give both a certificate and a key file (HARK_NATS_CERT and HARK_NATS_KEY), not one")
	}
	if c.CAFile == "" && c.CertFile == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pool, err := loadCAs(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("NATS: %w", err)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, hark.WrapError(hark.EINVALID, err, "NATS client certificate %s and key %s", c.CertFile, c.KeyFile)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// loadCAs reads a PEM file of CA certificates.
func loadCAs(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "read CA file %s", file)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, hark.Errorf(hark.EINVALID, "CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}

// Close drains the connection (its subscriptions finish the messages they
// hold, what was published is flushed) and closes it, waiting until it has
// closed. When ctx ends first it closes the connection at once and returns
// ctx.Err(). Close is safe to call more than once (a later call returns the
// first call's result) and on a nil or zero Queue.
func (q *Queue) Close(ctx context.Context) error {
	if q == nil || q.nc == nil {
		return nil
	}
	q.closeOnce.Do(func() {
		if err := q.nc.Drain(); err != nil {
			q.nc.Close() // closed already, or reconnecting: nothing to drain
		}
		select {
		case <-q.connClosed:
		case <-ctx.Done():
			q.nc.Close()
			q.closeErr = fmt.Errorf("nats connection: drain: %w", ctx.Err())
		}
	})
	return q.closeErr
}

// Setup creates or updates the work stream and the stages' consumers. It is
// idempotent and returns what it did, one line each.
func (q *Queue) Setup(ctx context.Context) ([]string, error) {
	var did []string
	stream, err := q.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        q.cfg.Stream,
		Description: "hark work: uploaded recordings and ready transcripts",
		Subjects:    []string{hark.SubjectUploaded, hark.SubjectTranscribed},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    q.cfg.Replicas,
		Duplicates:  10 * time.Minute,
		MaxMsgSize:  1 << 20,
	})
	if err != nil {
		return nil, hark.WrapError(hark.EUNAVAILABLE, err, "create stream %s", q.cfg.Stream)
	}
	did = append(did, fmt.Sprintf("stream %s: subjects %s, %s (work queue, file storage, %d replica(s))",
		q.cfg.Stream, hark.SubjectUploaded, hark.SubjectTranscribed, q.cfg.Replicas))
	for _, c := range []struct{ name, subject string }{
		{ConsumerTranscribe, hark.SubjectUploaded},
		{ConsumerAnnotate, hark.SubjectTranscribed},
	} {
		_, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
			Durable:       c.name,
			Description:   "hark " + c.name + " stage",
			FilterSubject: c.subject,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       q.cfg.AckWait,
			MaxDeliver:    q.cfg.MaxDeliver,
			MaxAckPending: 1000,
			Replicas:      q.cfg.Replicas,
		})
		if err != nil {
			return nil, hark.WrapError(hark.EUNAVAILABLE, err, "create consumer %s", c.name)
		}
		did = append(did, fmt.Sprintf("consumer %s: %s, ack wait %s, max deliver %d", c.name, c.subject, q.cfg.AckWait, q.cfg.MaxDeliver))
	}
	return did, nil
}

// Publish publishes data on subject and waits for JetStream's ack. A
// non-empty msgID lets JetStream drop a duplicate within its window.
func (q *Queue) Publish(ctx context.Context, subject, msgID string, data []byte) error {
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	if _, err := q.js.Publish(ctx, subject, data, opts...); err != nil {
		return hark.WrapError(hark.EUNAVAILABLE, err, "publish to %s", subject)
	}
	return nil
}

// Handler does the work of one delivery. Returning nil acks the message; an
// error for which hark.IsTemporary is true naks it with a delay so it comes
// back later; any other error terminates it (the handler has recorded the
// failure against the recording).
type Handler func(ctx context.Context, d hark.Delivery) error

// Run fetches from the named consumer with concurrency workers until ctx is
// cancelled, then waits for the work in hand to finish.
func (q *Queue) Run(ctx context.Context, consumer string, concurrency int, h Handler) error {
	if concurrency < 1 {
		concurrency = 1
	}
	cons, err := q.js.Consumer(ctx, q.cfg.Stream, consumer)
	if err != nil {
		return hark.WrapError(hark.EUNAVAILABLE, err, "consumer %s (run `hark setup`?)", consumer)
	}
	log := q.cfg.Logger.With("stage", consumer)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				msg, err := cons.Next(jetstream.FetchMaxWait(2 * time.Second))
				if err != nil {
					if !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) && ctx.Err() == nil {
						log.Warn("fetch", "err", err)
						sleep(ctx, time.Second)
					}
					continue
				}
				q.handle(ctx, log, consumer, msg, h)
			}
		})
	}
	wg.Wait()
	return nil
}

// handle runs h on one message, keeping it in progress while h works, and
// settles it by h's result.
func (q *Queue) handle(ctx context.Context, log *slog.Logger, consumer string, msg jetstream.Msg, h Handler) {
	d := &delivery{msg: msg, maxDeliver: q.cfg.MaxDeliver, holdFor: q.holdFor, aborted: q.aborted}
	if md, err := msg.Metadata(); err == nil {
		d.attempt = int(md.NumDelivered)
	}
	// The work itself is not cut short when fetching stops: it runs to its
	// end (bounded by its own timeouts) and is acked, so nothing is done
	// twice — unless the stop's grace runs out (AbortWork).
	workCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	if q.abort != nil {
		unhook := context.AfterFunc(q.abort, stop)
		defer unhook()
	}
	go func() {
		t := time.NewTicker(q.cfg.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-workCtx.Done():
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	if q.depends != nil {
		// On its last delivery a handler records a failure instead of
		// asking for a retry; while a dependency is down and the message
		// may still be held, it is not the last (and Final remembers it
		// said so, so that the message is then held, never sent back).
		d.mayHold = func() bool { return !d.holdOver() && q.down(workCtx) }
	}
	err := h(workCtx, d)
	for hark.IsTemporary(err) && d.mayHold != nil && (d.finalDeferred || d.mayHold()) {
		if d.holdStart.IsZero() {
			d.holdStart = time.Now()
			if q.onHold != nil {
				q.onHold(consumer, 1)
				defer q.onHold(consumer, -1)
			}
		}
		log.Warn("holding the message: a dependency is down", "attempt", d.attempt, "err", err)
		if !q.waitForDependencies(ctx, log, d) {
			if d.maxDeliver > 0 && d.attempt >= d.maxDeliver && q.requeue(log, msg, "a held message on its last delivery") {
				return
			}
			break
		}
		log.Info("running the held message again", "attempt", d.attempt)
		d.finalDeferred = false
		err = h(workCtx, d)
	}
	switch {
	case err == nil:
		if aerr := msg.Ack(); aerr != nil {
			log.Warn("ack", "err", aerr)
		}
	case q.aborted():
		// On its last delivery a message sent back would never come
		// again: it is queued anew, as a held one is.
		if d.maxDeliver > 0 && d.attempt >= d.maxDeliver && q.requeue(log, msg, "work cut short on its last delivery") {
			return
		}
		log.Info("stopped before the work was done: the message goes back for another worker", "attempt", d.attempt)
		_ = msg.Nak()
	case hark.IsTemporary(err):
		delay := backoff(d.attempt)
		log.Warn("retrying later", "attempt", d.attempt, "delay", delay, "err", err)
		_ = msg.NakWithDelay(delay)
	default:
		log.Info("gave up on message", "attempt", d.attempt, "reason", hark.ErrorMessage(err))
		_ = msg.Term()
	}
}

// requeue publishes a message's data anew and acknowledges the original:
// on its last delivery a message sent back would never come again
// (JetStream would report it exhausted), although it never failed — it
// waited (held) or was cut short by a stop. why says which, in the log.
// It reports whether that worked.
func (q *Queue) requeue(log *slog.Logger, msg jetstream.Msg, why string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := q.Publish(ctx, msg.Subject(), "", msg.Data()); err != nil {
		log.Warn("could not queue a held message anew; sending it back", "err", err)
		return false
	}
	if err := msg.Ack(); err != nil {
		log.Warn("ack of a message queued anew", "err", err)
	}
	log.Info("queued anew: "+why, "subject", msg.Subject())
	return true
}

// down asks whether a dependency is down, giving it 5 seconds to answer.
func (q *Queue) down(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return q.depends(ctx) != nil
}

// waitForDependencies waits until the dependencies answer, and reports
// whether to run the handler again: when they answer, and once more when
// the hold has run out (on its last delivery the handler then records the
// failure and its reason). False when the worker is stopping: the message
// goes back to the queue.
func (q *Queue) waitForDependencies(ctx context.Context, log *slog.Logger, d *delivery) bool {
	wait := 500 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			log.Info("stopping: sending a held message back to the queue", "attempt", d.attempt)
			return false
		case <-time.After(wait):
		}
		if !q.down(ctx) {
			return true
		}
		if d.holdOver() {
			log.Warn("held the message as long as allowed: trying it once more", "attempt", d.attempt, "held_for", q.holdFor)
			return true
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// backoff is the delay before the given attempt is retried: 1s, 2s, 4s … up
// to a minute.
func backoff(attempt int) time.Duration {
	d := time.Second
	for i := 1; i < attempt && d < time.Minute; i++ {
		d *= 2
	}
	return min(d, time.Minute)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

type delivery struct {
	msg        jetstream.Msg
	attempt    int
	maxDeliver int
	holdFor    time.Duration
	// mayHold reports whether the message would be held, were its handler
	// to fail now; nil when the queue holds nothing.
	mayHold func() bool
	// holdStart is when the first hold began (zero: not held yet).
	holdStart time.Time
	// finalDeferred is set when Final said false on the last delivery
	// because the message may be held.
	finalDeferred bool
	// aborted reports whether the work is being cut short (AbortWork):
	// then no delivery is the last.
	aborted func() bool
	claimed map[string]int // by recording id
}

func (d *delivery) Data() []byte          { return d.msg.Data() }
func (d *delivery) Attempt() int          { return d.attempt }
func (d *delivery) InProgress() error     { return d.msg.InProgress() }
func (d *delivery) Claimed(id string) int { return d.claimed[id] }
func (d *delivery) SetClaimed(id string, lease int) {
	if d.claimed == nil {
		d.claimed = map[string]int{}
	}
	d.claimed[id] = lease
}

// holdOver reports whether the message has been held as long as allowed.
func (d *delivery) holdOver() bool {
	return !d.holdStart.IsZero() && time.Since(d.holdStart) >= d.holdFor
}

func (d *delivery) Final() bool {
	if d.maxDeliver <= 0 || d.attempt < d.maxDeliver || d.aborted != nil && d.aborted() {
		return false
	}
	if d.mayHold != nil && d.mayHold() {
		d.finalDeferred = true
		return false
	}
	return true
}

// Pending returns how many messages of the named consumer are waiting or
// delivered but not yet acknowledged.
func (q *Queue) Pending(ctx context.Context, consumer string) (int, error) {
	cons, err := q.js.Consumer(ctx, q.cfg.Stream, consumer)
	if err != nil {
		return 0, hark.WrapError(hark.EUNAVAILABLE, err, "consumer %s", consumer)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, hark.WrapError(hark.EUNAVAILABLE, err, "consumer %s", consumer)
	}
	return int(info.NumPending) + info.NumAckPending, nil
}

// Ready reports whether the connection to NATS is up and the stream exists.
func (q *Queue) Ready(ctx context.Context) error {
	if !q.nc.IsConnected() {
		return hark.Errorf(hark.EUNAVAILABLE, "not connected to NATS at %s", redactURLs(q.cfg.URL))
	}
	if _, err := q.js.Stream(ctx, q.cfg.Stream); err != nil {
		return hark.WrapError(hark.EUNAVAILABLE, err, "stream %s (run `hark setup`?)", q.cfg.Stream)
	}
	return nil
}

// maxDeliveriesAdvisory is the part of JetStream's max-deliveries advisory
// hark reads.
type maxDeliveriesAdvisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries int    `json:"deliveries"`
}

// ExhaustedHandler is told about a message that used up its deliveries
// without being acknowledged (every worker that took it stopped or crashed).
type ExhaustedHandler func(ctx context.Context, consumer string, data []byte, deliveries int) error

// OnExhausted calls h for every message of the work stream that exhausts its
// deliveries, once across all the processes that subscribe, then removes the
// message from the stream. It stops when ctx is done.
func (q *Queue) OnExhausted(ctx context.Context, h ExhaustedHandler) error {
	stream, err := q.js.Stream(ctx, q.cfg.Stream)
	if err != nil {
		return hark.WrapError(hark.EUNAVAILABLE, err, "stream %s", q.cfg.Stream)
	}
	log := q.cfg.Logger
	subject := "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + q.cfg.Stream + ".*"
	sub, err := q.nc.QueueSubscribe(subject, "hark-exhausted", func(m *nats.Msg) {
		var adv maxDeliveriesAdvisory
		if err := json.Unmarshal(m.Data, &adv); err != nil || adv.StreamSeq == 0 {
			return
		}
		msg, err := stream.GetMsg(ctx, adv.StreamSeq)
		if err != nil {
			log.Warn("exhausted message not found", "seq", adv.StreamSeq, "err", err)
			return
		}
		if err := h(ctx, adv.Consumer, msg.Data, adv.Deliveries); err != nil {
			log.Warn("exhausted message not recorded", "seq", adv.StreamSeq, "err", err)
			return
		}
		if err := stream.DeleteMsg(ctx, adv.StreamSeq); err != nil {
			log.Warn("delete exhausted message", "seq", adv.StreamSeq, "err", err)
		}
	})
	if err != nil {
		return hark.WrapError(hark.EUNAVAILABLE, err, "subscribe to %s", subject)
	}
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
	}()
	return nil
}

// Erase removes from the stream every message that match accepts (the
// upload events and transcripts-ready messages of recordings being
// erased), overwriting each on disk (a secure delete), and then drops the
// acknowledged history before the first message still held, so that the
// stream's files keep nothing of what was handled. A message a worker is
// handling at the moment goes too; its acknowledgement then finds it gone.
// It returns how many messages matched.
func (q *Queue) Erase(ctx context.Context, match func(data []byte) bool) (int, error) {
	s, err := q.js.Stream(ctx, q.cfg.Stream)
	if err != nil {
		return 0, hark.WrapError(hark.EUNAVAILABLE, err, "stream %s", q.cfg.Stream)
	}
	n := 0
	for seq := uint64(1); ; {
		msg, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(">"))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return n, hark.WrapError(hark.EUNAVAILABLE, err, "read stream %s", q.cfg.Stream)
		}
		if match(msg.Data) {
			if err := s.SecureDeleteMsg(ctx, msg.Sequence); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
				return n, hark.WrapError(hark.EUNAVAILABLE, err, "erase message %d of stream %s", msg.Sequence, q.cfg.Stream)
			}
			n++
		}
		seq = msg.Sequence + 1
	}
	info, err := s.Info(ctx)
	if err != nil {
		return n, hark.WrapError(hark.EUNAVAILABLE, err, "stream %s", q.cfg.Stream)
	}
	if info.State.Msgs == 0 {
		err = s.Purge(ctx)
	} else {
		err = s.Purge(ctx, jetstream.WithPurgeSequence(info.State.FirstSeq))
	}
	if err != nil {
		return n, hark.WrapError(hark.EUNAVAILABLE, err, "compact stream %s", q.cfg.Stream)
	}
	return n, nil
}
