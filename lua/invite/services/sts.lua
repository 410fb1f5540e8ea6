-- invite.services.sts - AWS Security Token Service, the three calls invite makes, declared as data:
-- AssumeRole (the credential chain's role profiles, the runner's member accounts),
-- AssumeRoleWithWebIdentity (web identity credentials; unsigned) and GetCallerIdentity (who am I).
-- Not an invitation service: the runner does not sweep it. Facts from botocore's model
-- sts/2011-06-15/service-2.json (botocore 1.43; checked by spec/pipeline/sts_client_spec.lua) and its
-- endpoint data. The format is described in docs/clients.md ("How a service is declared"); the
-- query protocol's part of it in invite.protocols.query.

local role_arn = { name = "RoleArn", wire = "RoleArn", required = true, type = "string", min = 20, max = 2048 }
local role_session_name = {
  name = "RoleSessionName", wire = "RoleSessionName", required = true, type = "string", min = 2, max = 64,
}
local duration_seconds = {
  name = "DurationSeconds", wire = "DurationSeconds", type = "integer", min = 900, max = 43200,
}

local function policy_arns()
  return {
    name = "PolicyArns", wire = "PolicyArns", type = "list",
    member = { type = "structure", members = {
      { name = "arn", wire = "arn", type = "string", min = 20, max = 2048 },
    } },
  }
end

local function credentials()
  return { name = "Credentials", wire = "Credentials", type = "structure", members = {
    { name = "AccessKeyId", wire = "AccessKeyId", type = "string" },
    { name = "SecretAccessKey", wire = "SecretAccessKey", type = "string" },
    { name = "SessionToken", wire = "SessionToken", type = "string" },
    { name = "Expiration", wire = "Expiration", type = "timestamp" },
  } }
end

local function assumed_role_user()
  return { name = "AssumedRoleUser", wire = "AssumedRoleUser", type = "structure", members = {
    { name = "AssumedRoleId", wire = "AssumedRoleId", type = "string" },
    { name = "Arn", wire = "Arn", type = "string" },
  } }
end

local packed_policy_size = { name = "PackedPolicySize", wire = "PackedPolicySize", type = "integer" }
local source_identity_out = { name = "SourceIdentity", wire = "SourceIdentity", type = "string" }

return {
  name = "sts",
  service_id = "STS",
  api_version = "2011-06-15",
  signing_name = "sts",
  endpoint_prefix = "sts",
  protocol = "query",
  -- without a region: the global endpoint (botocore's "aws-global"), signed for us-east-1; with one,
  -- sts.<region>.amazonaws.com (or the global one for the legacy regions when
  -- sts_regional_endpoints = legacy; see invite.config)
  global_endpoint = { region = "aws-global", host = "sts.amazonaws.com", signing_region = "us-east-1" },

  operations = {
    --- Returns temporary credentials of a role (a role of another account that trusts the caller).
    assume_role = {
      name = "AssumeRole", method = "POST", uri = "/",
      input = {
        role_arn,
        role_session_name,
        policy_arns(),
        { name = "Policy", wire = "Policy", type = "string", min = 1 },
        duration_seconds,
        { name = "Tags", wire = "Tags", type = "list", max = 50,
          member = { type = "structure", members = {
            { name = "Key", wire = "Key", required = true, type = "string", min = 1, max = 128 },
            { name = "Value", wire = "Value", required = true, type = "string", min = 0, max = 256 },
          } } },
        { name = "TransitiveTagKeys", wire = "TransitiveTagKeys", type = "list", max = 50,
          member = { type = "string", min = 1, max = 128 } },
        { name = "ExternalId", wire = "ExternalId", type = "string", min = 2, max = 1224 },
        { name = "SerialNumber", wire = "SerialNumber", type = "string", min = 9, max = 256 },
        { name = "TokenCode", wire = "TokenCode", type = "string", min = 6, max = 6 },
        { name = "SourceIdentity", wire = "SourceIdentity", type = "string", min = 2, max = 64 },
        { name = "ProvidedContexts", wire = "ProvidedContexts", type = "list", min = 1, max = 5,
          member = { type = "structure", members = {
            { name = "ProviderArn", wire = "ProviderArn", type = "string", min = 20, max = 2048 },
            { name = "ContextAssertion", wire = "ContextAssertion", type = "string", min = 4, max = 2048 },
          } } },
      },
      output = { credentials(), assumed_role_user(), packed_policy_size, source_identity_out },
    },
    --- Returns temporary credentials of a role for a web identity token (OIDC: EKS, GitHub Actions).
    -- Sent unsigned: the token is the proof (botocore's model: "authtype": "none").
    assume_role_with_web_identity = {
      name = "AssumeRoleWithWebIdentity", method = "POST", uri = "/", authtype = "none",
      input = {
        role_arn,
        role_session_name,
        { name = "WebIdentityToken", wire = "WebIdentityToken", required = true, type = "string",
          min = 4, max = 20000, sensitive = true },
        { name = "ProviderId", wire = "ProviderId", type = "string", min = 4, max = 2048 },
        policy_arns(),
        { name = "Policy", wire = "Policy", type = "string", min = 1, max = 2048 },
        duration_seconds,
      },
      output = {
        credentials(),
        { name = "SubjectFromWebIdentityToken", wire = "SubjectFromWebIdentityToken", type = "string" },
        assumed_role_user(),
        packed_policy_size,
        { name = "Provider", wire = "Provider", type = "string" },
        { name = "Audience", wire = "Audience", type = "string" },
        source_identity_out,
      },
    },
    --- Returns the account, user ID and ARN of the caller's credentials.
    get_caller_identity = {
      name = "GetCallerIdentity", method = "POST", uri = "/",
      input = {},
      output = {
        { name = "UserId", wire = "UserId", type = "string" },
        { name = "Account", wire = "Account", type = "string" },
        { name = "Arn", wire = "Arn", type = "string" },
      },
    },
  },
}
