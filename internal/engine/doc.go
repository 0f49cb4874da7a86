// Package engine runs pipeline executions. Its core, [Plan], is a pure
// function from the stored state of a pipeline's active executions to the
// commands that move them forward; the runner loads that state, plans and
// applies the commands in one store transaction, so a crash at any point
// loses nothing and a restart simply plans again.
package engine
