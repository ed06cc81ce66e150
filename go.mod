module github.com/nsbox/nsbox

go 1.26.0

require (
	github.com/moby/sys/reexec v0.1.0
	golang.org/x/sys v0.49.0
)

// nsbox lives for milliseconds: no background goroutine re-reading the
// CPU limit.
godebug updatemaxprocs=0
