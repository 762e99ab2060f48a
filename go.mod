module github.com/ringsink/ringsink

go 1.25.0

require (
	github.com/loov/hrtime v1.0.3
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.47.0
)

require github.com/stretchr/testify v1.12.1 // indirect
