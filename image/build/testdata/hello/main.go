// Command hello is a tiny program for the builder's tests.
package main

import "fmt"

func main() { fmt.Println("hello") }
