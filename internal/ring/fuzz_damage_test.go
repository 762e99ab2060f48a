package ring

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/ringsink/ringsink/internal/testhook"
)

// livePayload is producer pid's record idx: its identity, filler whose
// length and bytes depend on both, and a CRC-32 of what precedes it, so a
// record delivered with a wrong length or wrong bytes is told apart from
// every record a producer wrote.
func livePayload(pid, idx, salt int, maxLen int) []byte {
	n := 7 + (pid*31+idx*17+salt)%(maxLen-6)
	p := make([]byte, n)
	p[0] = byte(pid)
	binary.LittleEndian.PutUint16(p[1:], uint16(idx))
	for j := 3; j < n-4; j++ {
		p[j] = byte(pid*7 + idx + j)
	}
	binary.LittleEndian.PutUint32(p[n-4:], crc32.ChecksumIEEE(p[:n-4]))
	return p
}

// atomicXor xors v into the word at addr with a CAS loop: the header
// words a mutation hits are stored by producers with atomic stores too, so
// the fuzz is free of data races under -race.
func atomicXor(addr *uint64, v uint64) {
	for {
		old := atomic.LoadUint64(addr)
		if atomic.CompareAndSwapUint64(addr, old, old^v) {
			return
		}
	}
}

// FuzzDurableLiveDamage: producers write self-checking records into a
// durable ring (heap memory standing in for the file mapping) while the
// consumer peeks, releases, seals and evicts, and the fuzz input changes
// header words of the live ring between the consumer's steps: records
// the producers are still copying, records published and not yet read,
// records read and not yet released, the next header to be claimed. The
// mutations are atomic stores to words only producers' atomic stores and
// the consumer write, so the run is race-free. They are damage, not
// forgery: no mutation writes a header consistent with the record count
// at its place on purpose (durable.go: not defended).
//
// It checks: no panic, no hang (the producers give up on a ring that stays
// full, the consumer stops once they are done and nothing more is
// published, and a watchdog panics after a minute); every record Peek
// returns is byte for byte one a producer wrote, once, in each producer's
// order; every accepted record is delivered, evicted, counted in Damaged
// or still queued (Pending); with no mutation nothing is counted damaged
// and everything is delivered; records are left undelivered only if a
// mutation hit a record the consumer had not yet seen published (at or
// past seenPos): damage to records it has seen is skipped and counted.
// Records the live consumer cannot pass (a header damaged before it read
// it: durable.go) are then recovered as after a crash, and what recovery
// returns obeys the same rules.
func FuzzDurableLiveDamage(f *testing.F) {
	f.Add(uint8(0), uint8(1), []byte{0, 3, 6, 0, 0, 9, 1, 2, 6, 0, 0, 17})                 // no damage
	f.Add(uint8(1), uint8(2), []byte{0, 7, 4, 0x10, 0, 3, 1, 9, 0, 7, 5, 0x21, 2, 8})      // W0 flips
	f.Add(uint8(0), uint8(0), []byte{6, 0, 0, 5, 3, 0, 4, 0x48, 0, 7, 1, 4, 6, 0, 0, 7})   // W1, then seal
	f.Add(uint8(2), uint8(1), []byte{0, 7, 5, 0x62, 6, 0, 4, 0x33, 0, 7, 1, 7, 4, 0x94})   // plausible headers
	f.Add(uint8(3), uint8(2), []byte{4, 0xc0, 0, 7, 4, 0xe1, 0, 7, 7, 0, 2, 0, 0, 7})      // the frontier, evictions
	f.Add(uint8(1), uint8(1), []byte{0, 15, 4, 0x05, 4, 0x25, 4, 0x45, 1, 3, 0, 15, 1, 7}) // between Peek and Release
	f.Add(uint8(0), uint8(0), []byte{6, 0, 6, 0, 6, 0, 0, 7, 4, 41, 0, 4, 6, 0, 6, 0})     // padding to seenPos
	f.Fuzz(func(t *testing.T, capExp, nprod uint8, ops []byte) {
		mem := durMem(256 << (capExp % 4))
		r, _ := openDurable(t, mem, bootA)
		capa := uint32(r.Cap())
		producers, each := 1+int(nprod%3), 40
		salt := int(capExp) >> 2
		maxLen := min(r.MaxRecord(), 120)

		// Where each record is: producers report (seq, len) from the
		// middle of their copy; claims are laid out in seq order.
		var lmu sync.Mutex
		lens := map[uint32]int{}
		testhook.MidCopy = func(seq uint32, p []byte) {
			lmu.Lock()
			lens[seq] = len(p)
			lmu.Unlock()
		}
		defer func() { testhook.MidCopy = nil }()
		var hdrs []uint32 // header positions of records cseq0, cseq0+1, ...
		cseq0, cpos := uint32(0), uint32(0)
		locate := func() {
			lmu.Lock()
			defer lmu.Unlock()
			for {
				n, ok := lens[cseq0+uint32(len(hdrs))]
				if !ok {
					return
				}
				size := r.recordSize(n)
				if i := cpos & r.mask; i+size > capa {
					cpos += capa - i
				}
				hdrs = append(hdrs, cpos)
				cpos += size
			}
		}

		written := make([]atomic.Int64, producers)
		var wg sync.WaitGroup
		for pid := range producers {
			wg.Go(func() {
				for idx := range each {
					p := livePayload(pid, idx, salt, maxLen)
					for refused := 0; !r.TryWrite(p); refused++ {
						if refused == 200 {
							return // the ring stays full: give up
						}
						runtime.Gosched()
					}
					written[pid].Add(1)
				}
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		dog := time.AfterFunc(time.Minute, func() { panic("FuzzDurableLiveDamage: no end after a minute") })
		defer dog.Stop()

		next := make([]int, producers) // per producer, the next index not yet delivered
		delivered, evicted, mutations := 0, 0, 0
		unseen := 0 // mutations of records the consumer had not yet seen published
		written1 := func(p []byte, where string) (pid, idx int) {
			t.Helper()
			pid, idx = -1, -1
			if len(p) >= 7 {
				pid, idx = int(p[0]), int(binary.LittleEndian.Uint16(p[1:]))
			}
			if pid < 0 || pid >= producers || idx >= each || !bytes.Equal(p, livePayload(pid, idx, salt, maxLen)) {
				t.Fatalf("%s: %q is no record a producer wrote", where, p)
			}
			return pid, idx
		}
		deliver := func(p []byte, where string) {
			t.Helper()
			pid, idx := written1(p, where)
			if idx < next[pid] {
				t.Fatalf("%s: producer %d's record %d after its record %d", where, pid, idx, next[pid]-1)
			}
			next[pid] = idx + 1
		}
		word := func(pos uint32) *uint64 { return (*uint64)(unsafe.Pointer(&r.buf[pos&r.mask])) }
		var mutlog [][3]uint64
		dst := make([][]byte, 8)
		var peeked [][]byte // copies of what the last Peek returned, not yet released
		var peekIdx []int   // their buffer indexes
		peek := func(n int) int {
			k := r.Peek(dst[:n])
			peeked, peekIdx = peeked[:0], peekIdx[:0]
			for _, p := range dst[:k] {
				bi := uint32(int(uintptr(unsafe.Pointer(unsafe.SliceData(p)))-uintptr(unsafe.Pointer(&r.buf[0]))) - durHdr)
				if len(p) < 7 || int(p[0]) >= producers || !bytes.Equal(p, livePayload(int(p[0]), int(binary.LittleEndian.Uint16(p[1:])), salt, maxLen)) {
					w0, w1 := atomic.LoadUint64(word(bi)), atomic.LoadUint64(word(bi+8))
					t.Logf("header at %d: %#x %#x; mutations (position, record, value after): %v", bi, w0, w1, mutlog)
				}
				written1(p, "peeked")
				peeked = append(peeked, bytes.Clone(p))
				peekIdx = append(peekIdx, int(uintptr(unsafe.Pointer(unsafe.SliceData(p)))-uintptr(unsafe.Pointer(&r.buf[0]))))
			}
			return k
		}
		release := func(m int) {
			t.Helper()
			if got := r.Release(m); got != m {
				t.Fatalf("Release(%d) of peeked records = %d", m, got)
			}
			for _, p := range peeked[:m] {
				deliver(p, "delivered")
				delivered++
			}
			peeked, peekIdx = peeked[m:], peekIdx[m:]
		}
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%8, int(ops[i+1])
			switch op {
			case 0:
				peek(1 + arg%len(dst))
			case 1: // release some of what the last Peek returned
				release(min(arg%8, len(peeked)))
			case 2: // release records nothing peeked: eviction (uds.hold)
				if len(peeked) == 0 {
					evicted += r.Release(1 + arg%2)
				}
			case 3:
				r.Seal()
			case 4, 5: // damage a header word (5: word 1)
				locate()
				headRec, _ := unpack(r.head.Load())
				for len(hdrs) > 0 && int32(cseq0-headRec) < 0 {
					// Released: their bytes may be another record's payload now.
					hdrs, cseq0 = hdrs[1:], cseq0+1
				}
				// The word's record: the next claim's, or one claimed and
				// not released (sel 1), or one the last Peek returned (sel 0).
				pos, tseq := cpos, cseq0+uint32(len(hdrs))
				if sel := arg >> 6; sel <= 1 && len(hdrs) > 0 {
					k := arg % len(hdrs)
					if sel == 0 && len(peeked) > 0 {
						idx := uint32(peekIdx[arg%len(peeked)] - durHdr)
						for j, h := range hdrs {
							if h&r.mask == idx {
								k = j
							}
						}
					}
					pos, tseq = hdrs[k], cseq0+uint32(k)
				}
				if !r.before(pos, r.seenPos) {
					unseen++
				}
				if op == 5 {
					pos += 8
				}
				w := word(pos)
				b := uint64(arg)
				if i+3 < len(ops) {
					b = uint64(ops[i+2])<<8 | uint64(ops[i+3])
				}
				switch arg >> 3 & 7 {
				case 0, 1:
					atomicXor(w, 1<<(b%64))
				case 2:
					atomic.StoreUint64(w, 0)
				case 3:
					atomic.StoreUint64(w, b*0x9E3779B97F4A7C15)
				case 4: // a well-formed published header of a record a lap or more away
					// (never of a count case 7 can give word 1: a header
					// pair made consistent on purpose is a forgery, which
					// nothing defends against; see durable.go)
					atomic.StoreUint64(w, pubHeader(int(b%uint64(r.MaxRecord()+1)), tseq+1000+uint32(b%3)))
				case 5: // padding: to where the records seen end, to the buffer's end, or anywhere
					n := (b * 8) % uint64(capa+8)
					switch b % 4 {
					case 0:
						n = uint64(r.seenPos - pos)
					case 1:
						n = uint64(capa - pos&r.mask)
					}
					atomic.StoreUint64(w, padFlag|n)
				case 6:
					atomic.StoreUint64(w, claimFlag|b%uint64(r.MaxRecord()+2))
				case 7: // word 1 of another record count
					atomicXor(w, (b%3+1)<<32)
				}
				mutations++
				mutlog = append(mutlog, [3]uint64{uint64(pos), uint64(tseq), atomic.LoadUint64(w)})
			case 6:
				runtime.Gosched() // let the producers run (one processor)
			case 7:
				r.Ready()
				r.Quiescent()
			}
		}
		// Let the producers finish, then drain what can be passed.
		for stop := false; !stop; {
			select {
			case <-done:
				stop = true
			default:
			}
			release(len(peeked))
			for peek(len(dst)) > 0 {
				release(len(peeked))
			}
			runtime.Gosched()
		}
		accepted := 0
		for pid := range written {
			accepted += int(written[pid].Load())
			if next[pid] > int(written[pid].Load()) {
				t.Fatalf("producer %d: record %d delivered, %d written", pid, next[pid]-1, written[pid].Load())
			}
		}
		left := r.Pending()
		t.Logf("%d accepted: %d delivered, %d evicted, %d damaged, %d left; %d mutations", accepted, delivered, evicted, r.Damaged(), left, mutations)
		if accepted != delivered+evicted+int(r.Damaged())+left {
			t.Fatalf("%d records accepted; %d delivered + %d evicted + %d damaged + %d left", accepted, delivered, evicted, r.Damaged(), left)
		}
		if mutations == 0 && (r.Damaged() != 0 || left != 0) {
			t.Fatalf("no damage, yet %d records counted damaged and %d left", r.Damaged(), left)
		}
		if unseen == 0 && left != 0 {
			// Damage below seenPos is skipped, counted: only damage to a
			// record the consumer had not yet seen published may stop it.
			t.Fatalf("%d records left, yet every mutation hit a record the consumer had seen; mutations (position, record, value after): %v", left, mutlog)
		}
		if left == 0 {
			return
		}
		// The consumer stopped at a header damaged before it read it: a
		// crash and a recovery pass what it could not.
		r2, rc := openDurable(t, mem, bootA)
		got := drain(r2)
		if len(got) != rc.Records || rc.Records > left {
			t.Fatalf("recovered %d records, Recovery says %d, %d were left", len(got), rc.Records, left)
		}
		for _, p := range got {
			deliver(p, "recovered")
		}
	})
}
