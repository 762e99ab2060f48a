package main

import "github.com/ringsink/ringsink/internal/baseline"

// linesPerRequest is how many log lines one request writes.
const linesPerRequest = 2

// requestOf turns a record writer into a request server: each push is one
// request that works and logs linesPerRequest lines through inner's push.
// Its latency is the request's, whatever happened to its lines: a request
// is always served, and its dropped lines count as lost records.
func requestOf(inner impl) impl {
	return impl{name: inner.name, perOp: linesPerRequest, start: func(producers int) started {
		rn := inner.start(producers)
		newPush := rn.newPush
		rn.newPush = func(p int) pushFunc {
			push := newPush(p)
			state := uint64(p + 1)
			return func(rec []byte) bool {
				for range linesPerRequest {
					state = baseline.RequestWork(state)
					rec[0] = byte(state) // the line depends on the work: neither is optimised away
					push(rec)
				}
				return true
			}
		}
		return rn
	}}
}

// noLogging is the request scenario's baseline: the same requests, no lines.
func noLogging() impl {
	im := requestOf(impl{start: func(int) started {
		return started{newPush: func(int) pushFunc { return func([]byte) bool { return true } }, stop: func() uint64 { return 0 }}
	}})
	im.name, im.baseline, im.perOp = "no logging", true, -1
	return im
}
