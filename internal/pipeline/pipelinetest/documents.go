package pipelinetest

// SamplePipeline is the sample pipeline of the user guide's "Create a
// Pipeline (CLI)" (reference/codepipeline.md §2.8), with the roleArn typo
// fixed and a valid account id.
const SamplePipeline = `{
  "pipeline": {
    "roleArn": "arn:aws:iam::123456789012:role/AWS-CodePipeline-Service",
    "stages": [
      {
        "name": "Source",
        "actions": [
          {
            "inputArtifacts": [],
            "name": "Source",
            "actionTypeId": {"category": "Source", "owner": "AWS", "version": "1", "provider": "S3"},
            "outputArtifacts": [{"name": "MyApp"}],
            "configuration": {
              "S3Bucket": "awscodepipeline-demobucket-example-date",
              "S3ObjectKey": "ExampleCodePipelineSampleBundle.zip"
            },
            "runOrder": 1
          }
        ]
      },
      {
        "name": "Beta",
        "actions": [
          {
            "inputArtifacts": [{"name": "MyApp"}],
            "name": "Deploy-CodeDeploy-Application",
            "actionTypeId": {"category": "Deploy", "owner": "AWS", "version": "1", "provider": "CodeDeploy"},
            "outputArtifacts": [],
            "configuration": {
              "ApplicationName": "CodePipelineDemoApplication",
              "DeploymentGroupName": "CodePipelineDemoFleet"
            },
            "runOrder": 1
          }
        ]
      }
    ],
    "artifactStore": {"type": "S3", "location": "codepipeline-us-east-1-1234567890"},
    "name": "MyPipelineName",
    "version": 1
  }
}`

// ProductionStage is the approval-then-deploy stage of
// reference/codepipeline.md §2.9.
const ProductionStage = `{
  "name": "Production",
  "actions": [
    {
      "inputArtifacts": [],
      "name": "MyApprovalStage",
      "actionTypeId": {"category": "Approval", "owner": "AWS", "version": "1", "provider": "Manual"},
      "outputArtifacts": [],
      "configuration": {
        "NotificationArn": "arn:aws:sns:us-east-1:80398EXAMPLE:MyApprovalTopic",
        "ExternalEntityLink": "http://example.com",
        "CustomData": "The latest changes include feedback from Bob."
      },
      "runOrder": 1
    },
    {
      "inputArtifacts": [{"name": "MyApp"}],
      "name": "MyDeploymentStage",
      "actionTypeId": {"category": "Deploy", "owner": "AWS", "version": "1", "provider": "CodeDeploy"},
      "outputArtifacts": [],
      "configuration": {
        "ApplicationName": "MyDemoApplication",
        "DeploymentGroupName": "MyProductionFleet"
      },
      "runOrder": 2
    }
  ]
}`

// GitHubSourceStage is the GitHub source stage of reference/codepipeline.md
// §2.9.
const GitHubSourceStage = `{
  "name": "Source",
  "actions": [
    {
      "inputArtifacts": [],
      "name": "Source",
      "actionTypeId": {"category": "Source", "owner": "ThirdParty", "version": "1", "provider": "GitHub"},
      "outputArtifacts": [{"name": "MyApp"}],
      "configuration": {
        "Owner": "MyGitHubAccountName",
        "Repo": "MyGitHubRepositoryName",
        "Branch": "master",
        "OAuthToken": "****"
      },
      "runOrder": 1
    }
  ]
}`
