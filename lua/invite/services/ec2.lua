-- invite.services.ec2 - Amazon EC2's DescribeRegions, declared as data: the Regions an account
-- has enabled, the fallback of invite.discover.regions when the Account API is denied. Not an
-- invitation service. Facts from botocore 1.43's model ec2/2016-11-15/service-2.json (checked by
-- spec/pipeline/account_ec2_spec.lua). EC2 speaks its own query dialect (protocol "ec2",
-- invite.protocols.ec2): `wire` is the model's locationName, which answers use as it is
-- (`regionInfo`, `item`, `regionEndpoint`) and requests with its first letter in capitals
-- (`dryRun` is sent as `DryRun`); every list is sent numbered, `RegionName.1`, `Filter.1.Value.1`.
-- The endpoint is regional, ec2.<region>.amazonaws.com. The format of this file is described in
-- docs/clients.md ("How a service is declared").

local function filters()
  return {
    name = "Filters", wire = "Filter", type = "list",
    member = { type = "structure", wire = "Filter", members = {
      { name = "Name", wire = "Name", type = "string" },
      { name = "Values", wire = "Value", type = "list", member = { type = "string", wire = "item" } },
    } },
  }
end

return {
  name = "ec2",
  service_id = "EC2",
  api_version = "2016-11-15",
  signing_name = "ec2",
  endpoint_prefix = "ec2",
  protocol = "ec2",
  title = "Amazon EC2",

  operations = {
    --- Describes the Regions enabled for the account (every Region of the partition with
    -- `AllRegions = true`), each with its endpoint and opt-in status (`opt-in-not-required`,
    -- `opted-in` or `not-opted-in`). `Filters`: `endpoint`, `opt-in-status`, `region-name`.
    describe_regions = {
      name = "DescribeRegions", method = "POST", uri = "/",
      input = {
        filters(),
        { name = "RegionNames", wire = "RegionName", type = "list",
          member = { type = "string", wire = "RegionName" } },
        { name = "DryRun", wire = "dryRun", type = "boolean" },
        { name = "AllRegions", wire = "AllRegions", type = "boolean" },
      },
      output = {
        { name = "Regions", wire = "regionInfo", type = "list",
          member = { type = "structure", wire = "item", members = {
            { name = "OptInStatus", wire = "optInStatus", type = "string" },
            { name = "Geography", wire = "geographySet", type = "list",
              member = { type = "structure", wire = "item", members = {
                { name = "Name", wire = "name", type = "string" },
              } } },
            { name = "RegionName", wire = "regionName", type = "string" },
            { name = "Endpoint", wire = "regionEndpoint", type = "string" },
          } } },
      },
    },
  },
}
