package slipwayapi_test

import (
	"context"
	"log"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// Register a notification target for approvals, follow a pipeline's
// events, and tell an error code (docs/api-extensions.md).
func ExampleClient() {
	ctx := context.Background()
	// AWS_SHARED_CREDENTIALS_FILE=slipway-data/credentials AWS_CONFIG_FILE=slipway-data/config
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	c := slipwayapi.NewFromConfig(cfg, "http://127.0.0.1:7700")

	// Approvals with NotificationArn arn:aws:sns:<region>:<account>:Approvals notify this URL.
	if _, err := c.PutNotificationTarget(ctx, &slipwayapi.PutNotificationTargetInput{
		Name: "Approvals", URL: "https://hooks.example.com/slipway/approvals", Secret: "a long random string",
	}); err != nil {
		log.Fatal(err)
	}

	// Follow the event log of one pipeline.
	var after int64
	for {
		out, err := c.ListEvents(ctx, &slipwayapi.ListEventsInput{PipelineName: "MyFirstPipeline", AfterID: after})
		if err != nil {
			log.Fatal(err)
		}
		for _, e := range out.Events {
			log.Printf("%d %s %s", e.ID, e.DetailType, e.Detail)
		}
		after = out.NextAfterID
		if len(out.Events) < slipwayapi.DefaultMaxEvents {
			break // read to the end; call again later to follow
		}
	}

	_, err = c.GetNotificationTarget(ctx, &slipwayapi.GetNotificationTargetInput{Name: "Nope"})
	if slipwayapi.ErrorCode(err) == slipwayapi.ResourceNotFoundException {
		log.Print("no such target")
	}
}
