// Package examples holds runnable examples that need libraries the
// ringsink module itself must not depend on (here the Prometheus client),
// in a module of their own so that ringsink's go.mod stays lean.
package examples
