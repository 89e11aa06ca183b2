package dispatcher

// A notify task runs on a goroutine of its own (asynq starts one per task)
// that begins with a small stack; rendering a message (text/template and
// html/template recurse, and call every function through reflect) then
// grows it several times, and each growth copies a stack that is already
// deep. Growing it once, while it is still shallow, is cheaper: one copy of
// a few frames instead of three of a few dozen.

// renderStack is about what a render needs.
const renderStack = 32 << 10

// growStack grows the calling goroutine's stack to hold renderStack bytes
// more than it uses now, at once.
//
//go:noinline
func growStack() {
	var frame [renderStack]byte
	keep(frame[:])
}

//go:noinline
func keep([]byte) {}
