package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's meta page layout (bbolt v1.x, internal/common/meta.go): a 16-byte
// page header, then magic, version, page size, flags (uint32 each), the
// root bucket (root pgid, sequence), freelist pgid, high-water pgid, txid
// (uint64 each) and an FNV-64a checksum of the preceding 56 bytes.
const (
	boltMagic     = 0xED0CDAED
	boltVersion   = 2
	pageHeader    = 16
	metaSize      = 64
	noFreelist    = ^uint64(0)
	minPageSize   = 1024
	maxPageSize   = 1 << 24
	firstReadSize = 0x1000
)

type boltMeta struct {
	pageSize, root, freelist, pgid, txid uint64
}

// parseMeta decodes and validates one meta page body; ok is false when it
// is not a valid bbolt meta page.
func parseMeta(b []byte) (m boltMeta, ok bool) {
	if len(b) < metaSize {
		return m, false
	}
	le := binary.LittleEndian
	if le.Uint32(b[0:]) != boltMagic || le.Uint32(b[4:]) != boltVersion {
		return m, false
	}
	h := fnv.New64a()
	h.Write(b[:56])
	if h.Sum64() != le.Uint64(b[56:]) {
		return m, false
	}
	m = boltMeta{pageSize: uint64(le.Uint32(b[8:])), root: le.Uint64(b[16:]), freelist: le.Uint64(b[32:]),
		pgid: le.Uint64(b[40:]), txid: le.Uint64(b[48:])}
	ps := m.pageSize
	if ps < minPageSize || ps > maxPageSize || ps&(ps-1) != 0 {
		return m, false
	}
	if m.pgid < 4 || m.root < 2 || m.root >= m.pgid || (m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.pgid)) {
		return m, false
	}
	return m, true
}

// checkHeader validates the bbolt meta pages of the file at path without
// writing to it, so that bbolt is never handed a foreign or truncated file
// (on which it may panic or fault).
func checkHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = readMeta(f)
	return err
}

// checkTree checks the page tree of the file at path (see checkPages; for
// a writer, with writer true, its freelist too). It runs once the file is
// locked, so no writer can be changing the pages.
func checkTree(path string, writer bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	m, err := readMeta(f)
	if err != nil {
		return err
	}
	if err := checkPages(f, m, writer); err != nil {
		if errors.Is(err, errFreelist) {
			return fmt.Errorf("%w: %v: a write could overwrite data, so this store is only read; "+
				"`lineage db export` it and `db import` the export into a new file", ErrCorrupt, err)
		}
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return nil
}

// readMeta returns the current (valid, highest txid) meta page of f.
func readMeta(f *os.File) (boltMeta, error) {
	var best boltMeta
	st, err := f.Stat()
	if err != nil {
		return best, err
	}
	size := st.Size()
	if size == 0 {
		return best, fmt.Errorf("%w: empty file", ErrNotStore)
	}
	buf := make([]byte, firstReadSize)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return best, err
	}
	buf = buf[:n]
	var metas []boltMeta
	if n >= pageHeader+metaSize {
		if m, ok := parseMeta(buf[pageHeader:]); ok {
			metas = append(metas, m)
		}
	}
	// The second meta page sits one page in; try every page size when the
	// first is unreadable, as bbolt does.
	for ps := int64(minPageSize); ps <= maxPageSize && ps+pageHeader+metaSize <= size; ps *= 2 {
		if len(metas) > 0 && uint64(ps) != metas[0].pageSize {
			continue
		}
		b := make([]byte, metaSize)
		if _, err := f.ReadAt(b, ps+pageHeader); err != nil {
			break
		}
		if m, ok := parseMeta(b); ok && m.pageSize == uint64(ps) {
			metas = append(metas, m)
			break
		}
	}
	if len(metas) == 0 {
		return best, fmt.Errorf("%w: no valid bbolt meta page", ErrNotStore)
	}
	best = metas[0]
	for _, m := range metas[1:] {
		if m.txid > best.txid {
			best = m
		}
	}
	if uint64(size) < best.pgid*best.pageSize {
		return best, fmt.Errorf("%w: file is truncated (%d bytes, bbolt expects %d)", ErrNotStore, size, best.pgid*best.pageSize)
	}
	return best, nil
}

// damagedMeta reports whether one of the two meta pages of the file at
// path fails its checks, and the transaction the store reads as of (the
// other page's): bbolt then silently reads the older state when the
// damaged page was the newer, losing the last commit.
func damagedMeta(path string) (damaged bool, txid uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, 0, err
	}
	defer f.Close()
	best, err := readMeta(f)
	if err != nil {
		return false, 0, err
	}
	valid := 0
	for i := range int64(2) {
		b := make([]byte, metaSize)
		if _, err := f.ReadAt(b, i*int64(best.pageSize)+pageHeader); err == nil {
			if _, ok := parseMeta(b); ok {
				valid++
			}
		}
	}
	return valid < 2, best.txid, nil
}

// IsDatabase reports whether the file at path begins like a bbolt
// database (the first meta page's magic number and version), intact or
// not: commands that write other files use it to refuse writing over a
// database named by mistake. A missing or unreadable file, one too short
// to hold a meta page, or anything but a regular file (a named pipe is
// never opened) is not a database.
func IsDatabase(path string) bool {
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, pageHeader+8)
	if _, err := io.ReadFull(f, b); err != nil {
		return false
	}
	le := binary.LittleEndian
	return le.Uint32(b[pageHeader:]) == boltMagic && le.Uint32(b[pageHeader+4:]) == boltVersion
}
