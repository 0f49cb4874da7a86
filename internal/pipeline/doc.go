// Package pipeline holds the rules for pipeline declarations: the structure
// rules that CreatePipeline and UpdatePipeline enforce, the catalogue of
// action types Slipway accepts (and reports through ListActionTypes), the
// masking and preservation of secret configuration values, and the defaults
// filled into a declaration before it is stored.
//
// The package is pure: it does no I/O and keeps no mutable state. Callers run
// the model's generated (*cpapi.PipelineDeclaration).Validate first, which
// checks the per-member constraints (required members, patterns, lengths,
// enum values, runOrder 1..999); [Validate] then checks the rules that span
// several members, which the model cannot express.
//
// # Exceptions
//
// CreatePipeline and UpdatePipeline may raise ValidationException,
// InvalidStructureException, InvalidStageDeclarationException,
// InvalidActionDeclarationException, InvalidBlockerDeclarationException and
// LimitExceededException (model.json; reference/api.md §2). The model's
// documentation only says which part of the declaration each one is about
// ("The structure / stage declaration / action declaration was specified in
// an invalid format"), so the mapping follows that scope:
//
//   - InvalidStructureException: rules about the pipeline as a whole, that is
//     how stages and actions relate to each other (§2.3 of the CodePipeline
//     reference): stage count, where source actions may appear, the artifact
//     flow between actions, artifact stores, and the action a trigger names.
//   - InvalidStageDeclarationException: rules about one stage on its own:
//     its name is unique, it has 1..N actions within the parallel and
//     sequential limits, and its conditions suit the execution mode.
//   - InvalidActionDeclarationException: rules about one action on its own:
//     its name is unique in the stage, its type exists, its artifact counts,
//     configuration, commands, namespace and variable references are valid.
//   - InvalidBlockerDeclarationException: the stage's blockers.
//   - ValidationException: members of the pipeline that only V2 pipelines
//     accept, duplicate pipeline variables and the trigger count; these are
//     member constraints like the ones the model validation reports.
//
// LimitExceededException is not used for the structure limits although the
// user guide calls them limits: the model documents it as the per-account
// pipeline limit, and botocore's standard retry mode treats it as a throttle
// (reference/api.md §1.4) so SDK clients would retry a request that can never
// succeed. The limits are reported as InvalidStructureException (stages) and
// InvalidStageDeclarationException (actions per stage).
//
// The complete rule table, in the order [Validate] checks it (the first
// violation found is reported; the order and the messages are
// deterministic):
//
//	rule                                                    exception
//	------------------------------------------------------  ----------------------------------
//	1  artifactStore and artifactStores both set or neither  InvalidStructureException
//	   artifactStores lacks the server's region              InvalidStructureException
//	2  fewer than 2 stages / more than Limits.MaxStages       InvalidStructureException
//	3  V2-only member on a pipelineType V1 pipeline          ValidationException
//	4  duplicate pipeline variable names                     ValidationException
//	5  more than Limits.MaxTriggers triggers                 ValidationException
//	6  per stage, in order:
//	   duplicate stage name                                  InvalidStageDeclarationException
//	   duplicate blocker name, blocker type not Schedule     InvalidBlockerDeclarationException
//	   ROLLBACK on the first stage or in PARALLEL mode       InvalidStageDeclarationException
//	   action without actionTypeId                           InvalidActionDeclarationException
//	   no actions / too many actions / too many parallel
//	   actions in one runOrder / too many runOrder groups    InvalidStageDeclarationException
//	7  first stage has no source action                      InvalidStructureException
//	   no action other than source actions                   InvalidStructureException
//	   non-source (e.g. approval) action in the first stage  InvalidStructureException
//	   source action outside the first stage                 InvalidStructureException
//	8  per action, in order:
//	   duplicate action name in the stage                    InvalidActionDeclarationException
//	   owner invalid, type unknown, version not available    InvalidActionDeclarationException
//	   commands missing on Commands / present on others      InvalidActionDeclarationException
//	   input or output artifact count out of range           InvalidActionDeclarationException
//	   required configuration key missing, unknown key,
//	   value not of the property's type, provider rules      InvalidActionDeclarationException
//	   action region without an artifact store               InvalidStructureException
//	   duplicate or reserved namespace                       InvalidActionDeclarationException
//	   output artifact name already used                     InvalidStructureException
//	   input artifact not produced by an earlier action      InvalidStructureException
//	   #{...} reference to an unknown or later namespace,
//	   an undeclared pipeline variable, or malformed         InvalidActionDeclarationException
//	9  trigger names no source action, a source action
//	   other than CodeStarSourceConnection, or one that
//	   another trigger names                                 InvalidStructureException
//
// [KeepSecrets] reports a masked secret it cannot restore as
// InvalidActionDeclarationException.
package pipeline
