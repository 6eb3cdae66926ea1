package main

import "syscall"

// contSignal lets a stopped process go on.
const contSignal = syscall.SIGCONT
