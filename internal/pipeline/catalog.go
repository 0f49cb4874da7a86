package pipeline

import "github.com/slipway-cd/slipway/internal/cpapi"

// This file is the table of built-in action types. To add a provider, append
// an entry to builtinTypes; provider-specific rules that a property list
// cannot express go in providerRule (rules.go).
//
// Sources: reference/codepipeline.md §2.5 (artifact counts), §2.6 and §2.7
// (configuration keys), and the AWS action reference pages for the types
// added after the 2016 guide (CodeBuild, S3 deploy, CodeStarSourceConnection,
// Commands).

// Property flags for prop.
const (
	required = 1 << iota
	key
	secret
	queryable
)

// Configuration property types (the model's ActionConfigurationPropertyType).
const (
	typeString  = cpapi.ActionConfigurationPropertyTypeString
	typeBoolean = cpapi.ActionConfigurationPropertyTypeBoolean
	typeNumber  = cpapi.ActionConfigurationPropertyTypeNumber
)

// Providers of the built-in action types that rules refer to.
const (
	providerCodeBuild      = "CodeBuild"
	providerCodeStar       = "CodeStarSourceConnection"
	providerCommands       = "Commands"
	providerS3             = "S3"
	builtinVersion         = "1"
	implicitJobListKey     = "JobList"
	maxQueryableValueChars = 20
)

// builtinTypes returns a fresh copy of the built-in action types, in the
// order ListActionTypes reports them.
func builtinTypes() []cpapi.ActionType {
	return []cpapi.ActionType{
		{
			Id: typeID(cpapi.ActionCategorySource, cpapi.ActionOwnerAws, providerS3),
			ActionConfigurationProperties: props(
				prop("S3Bucket", required|key, typeString, "The name of the versioned S3 bucket that holds the source object."),
				prop("S3ObjectKey", required|key, typeString, "The key of the source object (a .zip file) in the bucket."),
				prop("PollForSourceChanges", 0, typeBoolean, "Whether to poll the bucket for new object versions."),
				prop("AllowOverrideForS3ObjectKey", 0, typeBoolean, "Whether StartPipelineExecution may override S3ObjectKey."),
			),
			InputArtifactDetails:  counts(0, 0),
			OutputArtifactDetails: counts(1, 1),
		},
		{
			Id: typeID(cpapi.ActionCategorySource, cpapi.ActionOwnerAws, "CodeCommit"),
			ActionConfigurationProperties: props(
				prop("RepositoryName", required|key, typeString, "The name of the repository."),
				prop("BranchName", required|key, typeString, "The branch whose commits start the pipeline."),
				prop("PollForSourceChanges", 0, typeBoolean, "Whether to poll the repository for new commits."),
				prop("OutputArtifactFormat", 0, typeString, "CODE_ZIP (default) or CODEBUILD_CLONE_REF."),
			),
			InputArtifactDetails:  counts(0, 0),
			OutputArtifactDetails: counts(1, 1),
		},
		{
			Id: typeID(cpapi.ActionCategorySource, cpapi.ActionOwnerThirdParty, "GitHub"),
			Settings: &cpapi.ActionTypeSettings{
				EntityUrlTemplate: "https://github.com/{Config:Owner}/{Config:Repo}/tree/{Config:Branch}",
			},
			ActionConfigurationProperties: props(
				prop("Owner", required|key, typeString, "The GitHub user or organization that owns the repository."),
				prop("Repo", required|key, typeString, "The name of the repository."),
				prop("Branch", required|key, typeString, "The branch whose commits start the pipeline."),
				prop("OAuthToken", required|secret, typeString, "A token with the admin:repo_hook and repo scopes; returned as ****."),
				prop("PollForSourceChanges", 0, typeBoolean, "Whether to poll the repository for new commits."),
			),
			InputArtifactDetails:  counts(0, 0),
			OutputArtifactDetails: counts(1, 1),
		},
		{
			// Owner AWS as in the CodeStarSourceConnection action reference.
			Id: typeID(cpapi.ActionCategorySource, cpapi.ActionOwnerAws, providerCodeStar),
			ActionConfigurationProperties: props(
				prop("ConnectionArn", required|key, typeString, "The ARN of the connection to the repository host."),
				prop("FullRepositoryId", required|key, typeString, "The owner and name of the repository, as owner/name."),
				prop("BranchName", required|key, typeString, "The branch whose commits start the pipeline."),
				prop("OutputArtifactFormat", 0, typeString, "CODE_ZIP (default) or CODEBUILD_CLONE_REF."),
				prop("DetectChanges", 0, typeBoolean, "Whether new commits start the pipeline (default true)."),
			),
			InputArtifactDetails:  counts(0, 0),
			OutputArtifactDetails: counts(1, 1),
		},
		codeBuildType(cpapi.ActionCategoryBuild),
		codeBuildType(cpapi.ActionCategoryTest),
		{
			Id: typeID(cpapi.ActionCategoryDeploy, cpapi.ActionOwnerAws, "CodeDeploy"),
			ActionConfigurationProperties: props(
				prop("ApplicationName", required|key, typeString, "The name of the CodeDeploy application."),
				prop("DeploymentGroupName", required|key, typeString, "The deployment group to deploy to."),
			),
			InputArtifactDetails:  counts(1, 1),
			OutputArtifactDetails: counts(0, 0),
		},
		{
			Id: typeID(cpapi.ActionCategoryDeploy, cpapi.ActionOwnerAws, providerS3),
			ActionConfigurationProperties: props(
				prop("BucketName", required|key, typeString, "The bucket to deploy to."),
				prop("Extract", required, typeBoolean, "true to unzip the artifact into the bucket, false to upload it as one object."),
				prop("ObjectKey", 0, typeString, "The key (or key prefix when extracting); required when Extract is false."),
				prop("KMSEncryptionKeyARN", 0, typeString, "The KMS key that encrypts the deployed objects."),
				prop("CannedACL", 0, typeString, "The canned ACL applied to the deployed objects."),
				prop("CacheControl", 0, typeString, "The Cache-Control header of the deployed objects."),
			),
			InputArtifactDetails:  counts(1, 1),
			OutputArtifactDetails: counts(0, 0),
		},
		{
			Id: typeID(cpapi.ActionCategoryApproval, cpapi.ActionOwnerAws, "Manual"),
			ActionConfigurationProperties: props(
				prop("NotificationArn", 0, typeString, "The topic notified when the approval is waiting."),
				prop("ExternalEntityLink", 0, typeString, "A URL the approver should review."),
				prop("CustomData", 0, typeString, "Comments shown to the approver."),
			),
			InputArtifactDetails:  counts(0, 0),
			OutputArtifactDetails: counts(0, 0),
		},
		{
			Id: typeID(cpapi.ActionCategoryInvoke, cpapi.ActionOwnerAws, "Lambda"),
			ActionConfigurationProperties: props(
				prop("FunctionName", required|key, typeString, "The name of the function to invoke."),
				prop("UserParameters", 0, typeString, "A string passed to the function (for several values, a JSON string)."),
			),
			InputArtifactDetails:  counts(0, 5),
			OutputArtifactDetails: counts(0, 5),
		},
		{
			// The commands come from the action's "commands" member, not from
			// its configuration. V2 pipelines only (reference/peers.md §1.2).
			// Artifact counts from the Commands action reference,
			// https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-Commands.html
			// (the page peers.md cites; it gives input 1 to 10, output 0 to 1).
			// ListActionTypes reports the input maximum 10 although the
			// model's ArtifactDetails caps client-supplied counts at 5.
			Id:                            typeID(cpapi.ActionCategoryCompute, cpapi.ActionOwnerAws, providerCommands),
			ActionConfigurationProperties: props(),
			InputArtifactDetails:          counts(1, 10),
			OutputArtifactDetails:         counts(0, 1),
		},
	}
}

// codeBuildType returns the CodeBuild action type of a category (Build or
// Test): 1..5 inputs, 0..5 outputs.
func codeBuildType(category string) cpapi.ActionType {
	return cpapi.ActionType{
		Id: typeID(category, cpapi.ActionOwnerAws, providerCodeBuild),
		ActionConfigurationProperties: props(
			prop("ProjectName", required|key, typeString, "The name of the build project."),
			prop("PrimarySource", 0, typeString, "The input artifact used as the primary source; required with several inputs."),
			prop("EnvironmentVariables", 0, typeString, "A JSON array of {name, value, type} environment variables."),
			prop("BatchEnabled", 0, typeBoolean, "Whether to run a batch build."),
			prop("CombineArtifacts", 0, typeBoolean, "Whether to combine the artifacts of a batch build into one."),
		),
		InputArtifactDetails:  counts(1, 5),
		OutputArtifactDetails: counts(0, 5),
	}
}

func typeID(category, owner, provider string) *cpapi.ActionTypeId {
	return &cpapi.ActionTypeId{Category: category, Owner: owner, Provider: provider, Version: builtinVersion}
}

func props(p ...cpapi.ActionConfigurationProperty) []cpapi.ActionConfigurationProperty {
	if p == nil {
		return []cpapi.ActionConfigurationProperty{}
	}
	return p
}

func prop(name string, flags int, typ, description string) cpapi.ActionConfigurationProperty {
	return cpapi.ActionConfigurationProperty{
		Name:        name,
		Required:    boolPtr(flags&required != 0),
		Key:         boolPtr(flags&key != 0),
		Secret:      boolPtr(flags&secret != 0),
		Queryable:   boolPtr(flags&queryable != 0),
		Description: description,
		Type:        typ,
	}
}

func counts(minimum, maximum int32) *cpapi.ArtifactDetails {
	return &cpapi.ArtifactDetails{MinimumCount: &minimum, MaximumCount: &maximum}
}

func boolPtr(b bool) *bool { return &b }
