package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// bbolt's page layout (bbolt v1.x, internal/common/page.go): a 16-byte
// header (id uint64, flags uint16, count uint16, overflow uint32), then
// count 16-byte elements. A branch element is (pos, ksize uint32, child
// pgid uint64), a leaf element (flags, pos, ksize, vsize uint32); pos is
// counted from the element itself and the value follows the key. A leaf
// element with the bucket flag holds a bucket: its root pgid and sequence
// (uint64 each) and, when the root is 0, an inline leaf page.
const (
	pageBranch     = 0x01
	pageLeaf       = 0x02
	pageFreelist   = 0x10
	elemSize       = 16
	bucketFlag     = 0x01
	bucketHeader   = 16
	maxTreeDepth   = 64
	maxPageVisited = 1 << 26
)

// errFreelist marks a freelist that disagrees with the page tree.
var errFreelist = errors.New("freelist")

// pageWalker checks the page tree of a bbolt file without bbolt, so that
// a damaged file is reported instead of sending bbolt's cursors (and its
// own Check, which runs in a goroutine where a memory fault or a runaway
// recursion cannot be recovered) round a cycle or past the end of the map.
type pageWalker struct {
	r    io.ReaderAt
	m    boltMeta
	seen map[uint64]bool
	free []uint64 // the freelist's page ids
}

// checkPages walks every page reachable from m's root bucket and its
// freelist: each page must lie below the high-water mark, carry its own
// id, be of the expected type, keep its elements inside its bytes and be
// referenced once.
//
// For a writer (writer true) the freelist must also agree with the tree:
// no page listed twice and none both free and in use, since bbolt would
// hand such a page out for new data and overwrite what is there. A reader
// does not use the freelist, so such a store can still be read (and
// exported into a new one).
func checkPages(r io.ReaderAt, m boltMeta, writer bool) error {
	w := &pageWalker{r: r, m: m, seen: map[uint64]bool{0: true, 1: true}}
	if m.freelist != noFreelist {
		if err := w.freelist(m.freelist); err != nil {
			return err
		}
	}
	if err := w.tree(m.root, 0); err != nil || !writer {
		return err
	}
	listed := make(map[uint64]bool, len(w.free))
	for _, id := range w.free {
		switch {
		case listed[id]:
			return fmt.Errorf("%w: page %d is listed twice", errFreelist, id)
		case w.seen[id]:
			return fmt.Errorf("%w: page %d is both free and in use", errFreelist, id)
		}
		listed[id] = true
	}
	return nil
}

// page reads page id (with its overflow pages), checking its header.
func (w *pageWalker) page(id uint64, flags uint16) ([]byte, error) {
	if id < 2 || id >= w.m.pgid {
		return nil, fmt.Errorf("page id %d outside the file's %d pages", id, w.m.pgid)
	}
	hdr := make([]byte, pageHeader)
	if _, err := w.r.ReadAt(hdr, int64(id*w.m.pageSize)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	le := binary.LittleEndian
	if got := le.Uint64(hdr); got != id {
		return nil, fmt.Errorf("page %d: header says page %d", id, got)
	}
	if f := le.Uint16(hdr[8:]); f&flags == 0 {
		return nil, fmt.Errorf("page %d: type %#x, want %#x", id, f, flags)
	}
	over := uint64(le.Uint32(hdr[12:]))
	if over >= w.m.pgid-id {
		return nil, fmt.Errorf("page %d: %d overflow pages run past the file's %d pages", id, over, w.m.pgid)
	}
	for i := id; i <= id+over; i++ {
		if w.seen[i] {
			return nil, fmt.Errorf("page %d: referenced twice", i)
		}
		w.seen[i] = true
	}
	if len(w.seen) > maxPageVisited {
		return nil, fmt.Errorf("more than %d pages", maxPageVisited)
	}
	b := make([]byte, (over+1)*w.m.pageSize)
	if _, err := w.r.ReadAt(b, int64(id*w.m.pageSize)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	return b, nil
}

// freelist checks the freelist page: its ids must lie below the mark.
func (w *pageWalker) freelist(id uint64) error {
	b, err := w.page(id, pageFreelist)
	if err != nil {
		return fmt.Errorf("freelist: %w", err)
	}
	le := binary.LittleEndian
	n, start := uint64(le.Uint16(b[10:])), uint64(pageHeader)
	if n == 0xFFFF {
		n, start = le.Uint64(b[pageHeader:]), pageHeader+8
	}
	if n > (uint64(len(b))-start)/8 {
		return fmt.Errorf("freelist page %d: %d ids do not fit", id, n)
	}
	for i := range n {
		f := le.Uint64(b[start+8*i:])
		if f < 2 || f >= w.m.pgid {
			return fmt.Errorf("freelist page %d: free page id %d outside the file's %d pages", id, f, w.m.pgid)
		}
		w.free = append(w.free, f)
	}
	return nil
}

// tree checks the B+tree rooted at page id.
func (w *pageWalker) tree(id uint64, depth int) error {
	if depth > maxTreeDepth {
		return fmt.Errorf("page %d: tree deeper than %d", id, maxTreeDepth)
	}
	b, err := w.page(id, pageBranch|pageLeaf)
	if err != nil {
		return err
	}
	return w.elements(id, b, depth)
}

// elements checks the elements of page id, whose bytes are b, and walks
// its children: pages for a branch, buckets for a leaf.
func (w *pageWalker) elements(id uint64, b []byte, depth int) error {
	le := binary.LittleEndian
	flags, n := le.Uint16(b[8:]), uint64(le.Uint16(b[10:]))
	if pageHeader+n*elemSize > uint64(len(b)) {
		return fmt.Errorf("page %d: %d elements do not fit", id, n)
	}
	for i := range n {
		e := pageHeader + i*elemSize
		if flags&pageBranch != 0 {
			pos, ksize := uint64(le.Uint32(b[e:])), uint64(le.Uint32(b[e+4:]))
			if e+pos+ksize > uint64(len(b)) {
				return fmt.Errorf("page %d: branch element %d runs past the page", id, i)
			}
			if err := w.tree(le.Uint64(b[e+8:]), depth+1); err != nil {
				return err
			}
			continue
		}
		ef, pos := le.Uint32(b[e:]), uint64(le.Uint32(b[e+4:]))
		ksize, vsize := uint64(le.Uint32(b[e+8:])), uint64(le.Uint32(b[e+12:]))
		if e+pos+ksize+vsize > uint64(len(b)) {
			return fmt.Errorf("page %d: leaf element %d runs past the page", id, i)
		}
		if ef&bucketFlag == 0 {
			continue
		}
		v := b[e+pos+ksize : e+pos+ksize+vsize]
		if len(v) < bucketHeader {
			return fmt.Errorf("page %d: bucket %d has a %d-byte header", id, i, len(v))
		}
		if root := le.Uint64(v); root != 0 {
			if err := w.tree(root, depth+1); err != nil {
				return err
			}
			continue
		}
		inline := v[bucketHeader:]
		if len(inline) < pageHeader || le.Uint16(inline[8:])&pageLeaf == 0 {
			return fmt.Errorf("page %d: inline bucket %d is not a leaf page", id, i)
		}
		if depth+1 > maxTreeDepth {
			return fmt.Errorf("page %d: buckets nested deeper than %d", id, maxTreeDepth)
		}
		if err := w.elements(id, inline, depth+1); err != nil {
			return err
		}
	}
	return nil
}
