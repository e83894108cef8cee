package main

import (
	"bufio"
	"fmt"
	"os"
	"sync"
	"time"
)

// recordLog is group-consume's --record file: one line per record processed and per
// offset whose commit the broker acknowledged, each with the wall-clock time in ms:
//
//	r MS PARTITION OFFSET VALUE
//	c MS PARTITION NEXT_OFFSET
//
// Lines are flushed before the commit that covers them, so a record that is committed
// is always on disk here first (groups_check.sh reads these files).
// Safe for concurrent use (the revoke callback commits from franz-go's goroutine).
type recordLog struct {
	mu sync.Mutex
	f  *os.File
	w  *bufio.Writer
}

func openRecordLog(path string) (*recordLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("record file: %w", err)
	}
	return &recordLog{f: f, w: bufio.NewWriter(f)}, nil
}

func (l *recordLog) consumed(partition int32, offset int64, value []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "r %d %d %d %s\n", time.Now().UnixMilli(), partition, offset, value)
}

func (l *recordLog) committed(partition int32, next int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "c %d %d %d\n", time.Now().UnixMilli(), partition, next)
}

func (l *recordLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.w.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "petrel-compat: record file: %v\n", err)
	}
}

func (l *recordLog) close() {
	l.flush()
	l.f.Close()
}
