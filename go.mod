module github.com/slipway-cd/slipway

go 1.26

require (
	github.com/aws/aws-sdk-go-v2 v1.47.7 // indirect
	github.com/google/uuid v1.6.0 // indirect
)
