module github.com/nsbox/nsbox

go 1.26.0

require (
	github.com/moby/sys/reexec v0.1.0
	github.com/urfave/cli/v2 v2.27.7
	golang.org/x/sys v0.49.0
)

require (
	github.com/cpuguy83/go-md2man/v2 v2.0.7 // indirect
	github.com/russross/blackfriday/v2 v2.1.0 // indirect
	github.com/xrash/smetrics v0.0.0-20240521201337-686a1a2994c1 // indirect
)

// nsbox lives for milliseconds: no background goroutine re-reading the
// CPU limit.
godebug updatemaxprocs=0
