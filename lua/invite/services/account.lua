-- invite.services.account - AWS Account Management, the two Region calls invite makes, declared as
-- data: ListRegions (which Regions an account has enabled, the first source of
-- invite.discover.regions) and GetRegionOptStatus (one Region's status). Not an invitation service.
-- Facts from botocore 1.43's model account/2021-02-01/service-2.json (checked by
-- spec/pipeline/account_ec2_spec.lua): rest-json, and the JSON members on the wire are the boto3
-- names (PascalCase). The Account API is one endpoint per partition (botocore's endpoint data and
-- rule set: account.us-east-1.amazonaws.com signed for us-east-1 in aws,
-- account.cn-northwest-1.amazonaws.com.cn signed for cn-northwest-1 in aws-cn). The format of this
-- file is described in docs/clients.md ("How a service is declared").

-- The statuses a Region can have for an account (the model's RegionOptStatus enum).
local STATUSES = { "ENABLED", "ENABLING", "DISABLING", "DISABLED", "ENABLED_BY_DEFAULT" }

-- AccountId: a member account of the caller's organisation (the caller must be its management
-- account or a delegated administrator); absent, the caller's own account.
local function account_id()
  return { name = "AccountId", wire = "AccountId", location = "body", type = "string", account_id = true }
end

local function region_name(required)
  return { name = "RegionName", wire = "RegionName", location = required and "body" or nil, required = required,
           type = "string", min = 1, max = 50 }
end

local function region_opt_status()
  return { name = "RegionOptStatus", wire = "RegionOptStatus", type = "string", enum = STATUSES }
end

return {
  name = "account",
  service_id = "Account",
  api_version = "2021-02-01",
  signing_name = "account",
  endpoint_prefix = "account",
  protocol = "rest-json",
  title = "AWS Account Management",
  -- One endpoint per partition (the endpoint rule set: account[-fips].<implicit global region>.<DNS
  -- suffix>, signed for that region; botocore's endpoints.json lists the aws and aws-cn ones alike):
  -- every region of a partition goes to its host; without a region, the aws one.
  partition_endpoints = {
    aws = { host = "account.us-east-1.amazonaws.com", signing_region = "us-east-1",
            fips_host = "account-fips.us-east-1.amazonaws.com" },
    ["aws-cn"] = { host = "account.cn-northwest-1.amazonaws.com.cn", signing_region = "cn-northwest-1",
                   fips_host = "account-fips.cn-northwest-1.amazonaws.com.cn" },
    ["aws-us-gov"] = { host = "account.us-gov-west-1.amazonaws.com", signing_region = "us-gov-west-1",
                       fips_host = "account-fips.us-gov-west-1.amazonaws.com" },
    ["aws-iso"] = { host = "account.us-iso-east-1.c2s.ic.gov", signing_region = "us-iso-east-1",
                    fips_host = "account-fips.us-iso-east-1.c2s.ic.gov" },
    ["aws-iso-b"] = { host = "account.us-isob-east-1.sc2s.sgov.gov", signing_region = "us-isob-east-1",
                      fips_host = "account-fips.us-isob-east-1.sc2s.sgov.gov" },
    ["aws-iso-e"] = { host = "account.eu-isoe-west-1.cloud.adc-e.uk", signing_region = "eu-isoe-west-1",
                      fips_host = "account-fips.eu-isoe-west-1.cloud.adc-e.uk" },
    ["aws-iso-f"] = { host = "account.us-isof-south-1.csp.hci.ic.gov", signing_region = "us-isof-south-1",
                      fips_host = "account-fips.us-isof-south-1.csp.hci.ic.gov" },
    ["aws-eusc"] = { host = "account.eusc-de-east-1.amazonaws.eu", signing_region = "eusc-de-east-1",
                     fips_host = "account-fips.eusc-de-east-1.amazonaws.eu" },
  },

  operations = {
    --- Lists the Regions of the caller's partition with the account's opt-in status of each, one page
    -- at a time (`RegionOptStatusContains` keeps only the Regions with one of those statuses).
    list_regions = {
      name = "ListRegions", method = "POST", uri = "/listRegions",
      input = {
        account_id(),
        { name = "MaxResults", wire = "MaxResults", location = "body", type = "integer", min = 1, max = 50 },
        { name = "NextToken", wire = "NextToken", location = "body", type = "string", min = 0, max = 1000 },
        { name = "RegionOptStatusContains", wire = "RegionOptStatusContains", location = "body", type = "list",
          member = { type = "string", enum = STATUSES } },
      },
      output = {
        { name = "NextToken", wire = "NextToken", type = "string" },
        { name = "Regions", wire = "Regions", type = "list",
          member = { type = "structure", members = { region_name(false), region_opt_status() } } },
      },
    },
    --- The opt-in status of one Region for the account.
    get_region_opt_status = {
      name = "GetRegionOptStatus", method = "POST", uri = "/getRegionOptStatus",
      input = { account_id(), region_name(true) },
      output = { region_name(false), region_opt_status() },
    },
  },

  paginators = {
    list_regions = {
      input_token = "NextToken", output_token = "NextToken", limit_key = "MaxResults",
      result_key = "Regions", all = "list_all_regions", each = "each_region",
    },
  },
}
