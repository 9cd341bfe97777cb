// Command loadgen is the project's load generator. It sends load at a fixed rate (open loop) and
// measures each latency from the moment the request was due, not from when it was sent, so a
// stalled server shows up in the percentiles instead of silently lowering the rate.
//
//	loadgen http -url http://127.0.0.1:8080/health/ready -rate 1000 -duration 30s
//
// It also fills a development server with demo people and content (`loadgen seed`, which
// `make run` runs).
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "http":
		err = runHTTP(os.Args[2:])
	case "ws":
		err = runWS(os.Args[2:])
	case "seed":
		err = runSeed(os.Args[2:])
	case "mixed":
		err = runMixed(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: loadgen http|ws|seed|mixed [flags]   (loadgen http -h for the flags)")
	os.Exit(2)
}
