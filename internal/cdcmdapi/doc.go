// Package cdcmdapi holds the wire shapes of the CodeDeploy host-agent
// command service (CodeDeployCommandService_v20141006), generated from the
// model the stock agent ships, with validators for its constraints.
package cdcmdapi

//go:generate go run ../awsproto/shapegen -model model.json -pkg cdcmdapi -out shapes.go
