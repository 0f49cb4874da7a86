// Package cdapi holds the wire shapes of the AWS CodeDeploy API
// (CodeDeploy_20141006), generated from the service model in model.json,
// with validators for the model's constraints.
package cdapi

//go:generate go run ../awsproto/shapegen -model model.json -pkg cdapi -out shapes.go
