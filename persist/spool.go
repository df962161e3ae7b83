package persist

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/leanllm/leanllm-go/core"
)

// Spool file format
//
// The spool is a directory of append-only segment files named
// "<20-digit sequence>.spool", replayed in sequence order. A segment is a
// series of frames, one per spooled batch:
//
//	offset size field
//	0      4    magic "LLS\x01"
//	4      4    payload length in bytes (big endian)
//	8      4    number of events in the payload (big endian)
//	12     4    CRC-32 (Castagnoli) of bytes 8..12 followed by the payload
//	16     n    payload: a JSON array of events in their wire format
//
// Each frame is written with one write call and fsynced before the append
// returns. The magic contains a control byte, which JSON never holds
// unescaped, so after a damaged frame the reader resynchronises on the next
// magic. A torn tail (a crash during an append) or a damaged frame is skipped
// and its events counted spool_corrupt: the frame's event count when its
// header is intact, else 1 for the damaged region.
//
// A Writer never appends to a segment it did not create: at start the
// existing segments are scanned (validating every frame) and new frames go
// to a new segment. A segment is deleted once every frame in it has been
// accepted by the store. One Writer at a time may use a spool directory.

const (
	spoolHeaderLen = 16
	spoolSuffix    = ".spool"
	// spoolMaxFrameEvents bounds the event count read from a damaged header.
	spoolMaxFrameEvents = 1 << 20
)

var (
	spoolMagic = [4]byte{'L', 'L', 'S', 0x01}
	spoolCRC   = crc32.MakeTable(crc32.Castagnoli)

	// errSpoolFull is returned by append when the frame does not fit even
	// after dropping every segment that may be dropped.
	errSpoolFull = errors.New("persist: spool full")
)

// spoolFrame locates one frame in a segment.
type spoolFrame struct {
	off   int64
	size  int32 // payload length
	count int32 // events
}

type spoolSegment struct {
	seq    uint64
	path   string
	size   int64 // bytes in the file
	frames []spoolFrame
	next   int      // first frame not yet accepted by the store
	wf     *os.File // open for appending (the active segment only)
	rf     *os.File // open for reading while being replayed
}

func (g *spoolSegment) pendingEvents() int64 {
	var n int64
	for _, f := range g.frames[g.next:] {
		n += int64(f.count)
	}
	return n
}

func (g *spoolSegment) closeFiles() {
	if g.wf != nil {
		_ = g.wf.Close()
		g.wf = nil
	}
	if g.rf != nil {
		_ = g.rf.Close()
		g.rf = nil
	}
}

// spoolRef identifies the frame handed out by next until it is acked or
// released.
type spoolRef struct {
	seg   *spoolSegment
	frame int
}

// spool is safe for concurrent use; in practice the Writer's worker uses it,
// and Close at its deadline appends what it could not deliver.
type spool struct {
	dir      string
	maxBytes int64
	segBytes int64

	mu      sync.Mutex
	segs    []*spoolSegment // replay order; the active segment is last
	active  *spoolSegment
	unseen  []*spoolSegment // found at open, not scanned yet
	nextSeq uint64
	pinned  *spoolSegment // segment of the frame handed out by next
	pending int64         // events in frames not yet accepted

	bytes atomic.Int64 // total size of the segment files
}

// openSpool creates dir if needed and lists its segments. It does not read
// them: scan does, on the worker.
func openSpool(dir string, maxBytes, segBytes int64) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("persist: spool: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("persist: spool: %w", err)
	}
	s := &spool{dir: dir, maxBytes: maxBytes, segBytes: segBytes, nextSeq: 1}
	for _, de := range ents {
		name := de.Name()
		if !de.Type().IsRegular() || !strings.HasSuffix(name, spoolSuffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, spoolSuffix), 10, 64)
		if err != nil {
			continue
		}
		s.unseen = append(s.unseen, &spoolSegment{seq: seq, path: filepath.Join(dir, name)})
		s.nextSeq = max(s.nextSeq, seq+1)
	}
	slices.SortFunc(s.unseen, func(a, b *spoolSegment) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	return s, nil
}

// scan reads the segments found at open, validates their frames and makes
// them available for replay, ahead of anything appended since. It returns the
// number of events found in valid frames and in damaged ones. Segments
// without a valid frame are deleted.
func (s *spool) scan() (valid, corrupt int64, err error) {
	s.mu.Lock()
	unseen := s.unseen
	s.unseen = nil
	s.mu.Unlock()
	var found []*spoolSegment
	var errs []error
	for _, g := range unseen {
		data, rerr := os.ReadFile(g.path)
		if rerr != nil {
			errs = append(errs, rerr)
			continue // left on disk; retried at the next start
		}
		frames, bad := parseSpoolFrames(data)
		corrupt += bad
		if len(frames) == 0 {
			_ = os.Remove(g.path)
			continue
		}
		g.frames, g.size = frames, int64(len(data))
		valid += g.pendingEvents()
		found = append(found, g)
	}
	s.mu.Lock()
	s.segs = append(found, s.segs...)
	s.pending += valid
	for _, g := range found {
		s.bytes.Add(g.size)
	}
	s.mu.Unlock()
	if len(errs) > 0 {
		err = fmt.Errorf("persist: spool: %w", errors.Join(errs...))
	}
	return valid, corrupt, err
}

// parseSpoolFrames returns the valid frames of a segment and the number of
// events lost in damaged ones.
func parseSpoolFrames(data []byte) (frames []spoolFrame, corrupt int64) {
	off := 0
	for off < len(data) {
		if !bytes.HasPrefix(data[off:], spoolMagic[:]) {
			// Garbage: count the region once and resynchronise.
			corrupt++
			off = nextSpoolMagic(data, off+1)
			continue
		}
		if len(data)-off < spoolHeaderLen {
			corrupt++ // torn header
			break
		}
		h := data[off : off+spoolHeaderLen]
		n := int(binary.BigEndian.Uint32(h[4:8]))
		count := binary.BigEndian.Uint32(h[8:12])
		sum := binary.BigEndian.Uint32(h[12:16])
		end := off + spoolHeaderLen + n
		if n < 0 || end > len(data) || end < off ||
			crc32.Update(crc32.Checksum(h[8:12], spoolCRC), spoolCRC, data[off+spoolHeaderLen:end]) != sum {
			if count > 0 && count <= spoolMaxFrameEvents {
				corrupt += int64(count)
			} else {
				corrupt++
			}
			off = nextSpoolMagic(data, off+1)
			continue
		}
		frames = append(frames, spoolFrame{off: int64(off), size: int32(n), count: int32(count)})
		off = end
	}
	return frames, corrupt
}

func nextSpoolMagic(data []byte, from int) int {
	if from >= len(data) {
		return len(data)
	}
	i := bytes.Index(data[from:], spoolMagic[:])
	if i < 0 {
		return len(data)
	}
	return from + i
}

// encodeSpoolFrame builds one frame holding events. Events that cannot be
// marshalled are left out and returned in bad.
func encodeSpoolFrame(events []*core.Event) (frame []byte, count int, bad []*core.Event) {
	buf := make([]byte, spoolHeaderLen, spoolHeaderLen+len(events)*1024)
	buf = append(buf, '[')
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			bad = append(bad, e)
			continue
		}
		if count > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, b...)
		count++
	}
	buf = append(buf, ']')
	copy(buf[0:4], spoolMagic[:])
	binary.BigEndian.PutUint32(buf[4:8], uint32(len(buf)-spoolHeaderLen))
	binary.BigEndian.PutUint32(buf[8:12], uint32(count))
	sum := crc32.Update(crc32.Checksum(buf[8:12], spoolCRC), spoolCRC, buf[spoolHeaderLen:])
	binary.BigEndian.PutUint32(buf[12:16], sum)
	return buf, count, bad
}

// append writes one frame of count events and fsyncs it. To make room it
// first deletes the oldest segments (except the one being replayed) and
// returns how many events they held. If the frame still does not fit it
// returns errSpoolFull and writes nothing.
func (s *spool) append(frame []byte, count int) (evicted int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	need := int64(len(frame))
	if need > s.maxBytes {
		return 0, errSpoolFull
	}
	for s.bytes.Load()+need > s.maxBytes {
		i := slices.IndexFunc(s.segs, func(g *spoolSegment) bool { return g != s.pinned })
		if i < 0 {
			return evicted, errSpoolFull
		}
		g := s.segs[i]
		n := g.pendingEvents()
		evicted += n
		s.pending -= n
		s.removeLocked(i)
	}
	if a := s.active; a != nil && a.size > 0 && a.size+need > s.segBytes {
		s.sealLocked()
	}
	if s.active == nil {
		if err := s.createLocked(); err != nil {
			return evicted, err
		}
	}
	a := s.active
	off := a.size
	if _, err := a.wf.Write(frame); err != nil {
		s.abortAppendLocked(off)
		return evicted, fmt.Errorf("persist: spool: %w", err)
	}
	if err := a.wf.Sync(); err != nil {
		s.abortAppendLocked(off)
		return evicted, fmt.Errorf("persist: spool: %w", err)
	}
	a.frames = append(a.frames, spoolFrame{off: off, size: int32(len(frame) - spoolHeaderLen), count: int32(count)})
	a.size += need
	s.bytes.Add(need)
	s.pending += int64(count)
	return evicted, nil
}

// abortAppendLocked cuts a failed append off the active segment and seals it,
// so the next frame goes to a fresh file whatever state this one is in.
func (s *spool) abortAppendLocked(off int64) {
	a := s.active
	_ = a.wf.Truncate(off)
	s.sealLocked()
	if len(a.frames) == 0 {
		if i := slices.Index(s.segs, a); i >= 0 {
			s.removeLocked(i)
		}
	}
}

func (s *spool) createLocked() error {
	seq := s.nextSeq
	path := filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, spoolSuffix))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("persist: spool: %w", err)
	}
	s.nextSeq++
	syncDir(s.dir)
	g := &spoolSegment{seq: seq, path: path, wf: f}
	s.segs = append(s.segs, g)
	s.active = g
	return nil
}

// syncDir makes a new file's directory entry durable (best effort: not every
// OS can sync a directory).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

func (s *spool) sealLocked() {
	if a := s.active; a != nil {
		_ = a.wf.Close()
		a.wf = nil
		s.active = nil
	}
}

// removeLocked deletes segment i (its file and its accounting).
func (s *spool) removeLocked(i int) {
	g := s.segs[i]
	if g == s.active {
		s.active = nil
	}
	g.closeFiles()
	_ = os.Remove(g.path)
	s.bytes.Add(-g.size)
	s.segs = slices.Delete(s.segs, i, i+1)
}

// hasPending reports whether frames wait for replay.
func (s *spool) hasPending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending > 0 && s.pinned == nil
}

// next returns the oldest frame not yet accepted, decoded, and pins it until
// ack or release. Frames found damaged on the way are skipped and their
// events returned in corrupt. ok is false when there is nothing to replay.
func (s *spool) next() (events []*core.Event, ref spoolRef, corrupt int64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pinned != nil {
		return nil, spoolRef{}, 0, false
	}
	for len(s.segs) > 0 {
		g := s.segs[0]
		if g.next >= len(g.frames) {
			if g == s.active && len(g.frames) == 0 {
				return nil, spoolRef{}, corrupt, false // fresh, empty active segment
			}
			s.removeLocked(0)
			continue
		}
		fr := g.frames[g.next]
		evs, err := s.readFrameLocked(g, fr)
		if err != nil {
			corrupt += int64(fr.count)
			s.pending -= int64(fr.count)
			g.next++
			continue
		}
		s.pinned = g
		return evs, spoolRef{seg: g, frame: g.next}, corrupt, true
	}
	s.pending = 0 // nothing left to replay, whatever the count said
	return nil, spoolRef{}, corrupt, false
}

func (s *spool) readFrameLocked(g *spoolSegment, fr spoolFrame) ([]*core.Event, error) {
	if g.rf == nil {
		f, err := os.Open(g.path)
		if err != nil {
			return nil, err
		}
		g.rf = f
	}
	buf := make([]byte, spoolHeaderLen+int(fr.size))
	if _, err := g.rf.ReadAt(buf, fr.off); err != nil {
		return nil, err
	}
	h := buf[:spoolHeaderLen]
	if !bytes.Equal(h[0:4], spoolMagic[:]) ||
		binary.BigEndian.Uint32(h[4:8]) != uint32(fr.size) ||
		binary.BigEndian.Uint32(h[8:12]) != uint32(fr.count) ||
		crc32.Update(crc32.Checksum(h[8:12], spoolCRC), spoolCRC, buf[spoolHeaderLen:]) != binary.BigEndian.Uint32(h[12:16]) {
		return nil, errors.New("persist: spool: damaged frame")
	}
	var evs []*core.Event
	if err := json.Unmarshal(buf[spoolHeaderLen:], &evs); err != nil {
		return nil, err
	}
	if len(evs) != int(fr.count) {
		return nil, errors.New("persist: spool: frame event count mismatch")
	}
	for _, e := range evs {
		if e == nil {
			return nil, errors.New("persist: spool: null event")
		}
	}
	return evs, nil
}

// ack records that the store accepted (or the Writer accounted for) every
// event of the frame; a segment is deleted once all its frames are acked.
func (s *spool) ack(ref spoolRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pinned != ref.seg {
		return
	}
	s.pinned = nil
	g := ref.seg
	if g.next != ref.frame {
		return
	}
	s.pending -= int64(g.frames[g.next].count)
	g.next++
	if g.next >= len(g.frames) {
		if i := slices.Index(s.segs, g); i >= 0 {
			s.removeLocked(i)
		}
	}
}

// release unpins a frame the store did not accept; it is replayed again.
func (s *spool) release(ref spoolRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pinned == ref.seg {
		s.pinned = nil
	}
}

// close closes the open files; the segments stay on disk.
func (s *spool) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.segs {
		g.closeFiles()
	}
	s.active = nil
}
