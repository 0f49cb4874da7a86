// Package cpapi holds the wire shapes of the AWS CodePipeline API
// (CodePipeline_20150709), generated from the service model in model.json,
// with validators for the model's constraints.
package cpapi

//go:generate go run ../awsproto/shapegen -model model.json -pkg cpapi -out shapes.go
