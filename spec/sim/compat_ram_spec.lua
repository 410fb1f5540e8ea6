-- invite sim's AWS RAM against clients nobody here wrote: the AWS CLI of the default python3 (pyenv's
-- v1, botocore 1.43) and Debian's /usr/bin/aws (v2, 2.9.19), each that is present. Against the example
-- fixture (staging's four invitations in us-east-1): get-resource-share-invitations paged by the
-- CLI itself (--page-size 1: four requests, one merged list) and filtered, list-pending-invitation-
-- resources, accept and reject (with and without --client-token; the same token repeating the first
-- answer), and RAM's errors by code (already accepted, already rejected, expired, mismatched token,
-- unknown and malformed ARNs). RAM is served in the CLI's own parameter names and parsed as
-- botocore parses it (timestamps as ISO times).
local sim = require "support.sim"
local compat = require "support.compat"

local STAGING = "333333333333"
local RAM = sim.RAM_ARNS

local function arns(list) return sim.pluck(list, "resourceShareInvitationArn") end

teardown(function() compat.cleanup() end)

local clis = compat.AWS_CLIS()

it("finds at least one AWS CLI", function()
  assert.is_true(#clis >= 1, "neither python3's aws nor /usr/bin/aws")
end)

for _, cli in ipairs(clis) do
  describe("AWS CLI " .. cli.version .. " (" .. cli.path .. ") against invite sim's RAM", function()
    local s
    setup(function() s = sim.start{} end)
    teardown(function() s:stop() end)
    before_each(function() s:fresh() end)

    local function aws(args, env)
      return compat.aws(s, "staging", "us-east-1", args, "AWS_MAX_ATTEMPTS=1 " .. (env or ""), cli.path)
    end

    it("get-resource-share-invitations: paged by the CLI (--page-size 1), every status, filtered", function()
      local out, err = aws("ram get-resource-share-invitations --page-size 1")
      assert.is_table(out, err)
      assert.same({ RAM.org, RAM.expired, RAM.accepted, RAM.outside }, arns(out.resourceShareInvitations))
      assert.equal(4, s:count("GetResourceShareInvitations", "ram"))
      local inv = out.resourceShareInvitations[1]
      assert.same({ "org-network", "111111111111", STAGING, "PENDING" },
        { inv.resourceShareName, inv.senderAccountId, inv.receiverAccountId, inv.status })
      -- a datetime to botocore: v2 prints it ISO 8601, v1 as the wire's epoch seconds (cli_timestamp_format none)
      if type(inv.invitationTimestamp) == "number" then
        assert.truthy(math.abs(os.time() - 3 * 86400 - inv.invitationTimestamp) < 600)
      else
        assert.truthy(tostring(inv.invitationTimestamp):find("^%d%d%d%d%-%d%d%-%d%dT"), inv.invitationTimestamp)
      end
      out, err = aws("ram get-resource-share-invitations --resource-share-invitation-arns " .. RAM.outside .. " "
        .. RAM.expired)
      assert.is_table(out, err)
      assert.same({ RAM.expired, RAM.outside }, arns(out.resourceShareInvitations))
      local statuses = {}
      for _, i in ipairs(out.resourceShareInvitations) do statuses[#statuses + 1] = i.status end
      assert.same({ "EXPIRED", "PENDING" }, statuses)
    end)

    it("list-pending-invitation-resources: the pending share's resources and their types", function()
      local out, err = aws("ram list-pending-invitation-resources --resource-share-invitation-arn " .. RAM.org)
      assert.is_table(out, err)
      local types = {}
      for i, r in ipairs(out.resources) do types[i] = r.type .. " " .. r.resourceRegionScope end
      assert.same({ "ec2:Subnet REGIONAL", "ec2:Subnet REGIONAL", "ec2:TransitGateway REGIONAL",
                    "route53resolver:ResolverRule REGIONAL" }, types)
      local _, e2, rc = aws("ram list-pending-invitation-resources --resource-share-invitation-arn " .. RAM.expired)
      assert.truthy(rc ~= 0)
      assert.truthy(e2:find("ResourceShareInvitationExpiredException", 1, true), e2)
    end)

    it("accept-resource-share-invitation and reject-resource-share-invitation, with and without --client-token",
      function()
      local out, err = aws("ram accept-resource-share-invitation --resource-share-invitation-arn " .. RAM.outside
        .. " --client-token cli-token-1")
      assert.is_table(out, err)
      assert.same({ "ACCEPTED", "cli-token-1", RAM.outside }, { out.resourceShareInvitation.status, out.clientToken,
        out.resourceShareInvitation.resourceShareInvitationArn })
      -- the same token and call: the first answer again
      local again = assert(aws("ram accept-resource-share-invitation --resource-share-invitation-arn " .. RAM.outside
        .. " --client-token cli-token-1"))
      assert.same(out, again)
      -- no token: the CLI sends none (botocore fills none for RAM), the simulator makes one, as RAM does
      out, err = aws("ram reject-resource-share-invitation --resource-share-invitation-arn " .. RAM.org)
      assert.is_table(out, err)
      assert.equal("REJECTED", out.resourceShareInvitation.status)
      assert.is_string(out.clientToken)
      local listed = assert(aws("ram get-resource-share-invitations"))
      local statuses = {}
      for _, i in ipairs(listed.resourceShareInvitations) do statuses[#statuses + 1] = i.status end
      assert.same({ "REJECTED", "EXPIRED", "ACCEPTED", "ACCEPTED" }, statuses)
      assert.equal(2, s:count("AcceptResourceShareInvitation", "ram"))
      assert.equal(1, s:count("RejectResourceShareInvitation", "ram"))
    end)

    it("gets RAM's errors by code", function()
      local CASES = {
        { "accept-resource-share-invitation --resource-share-invitation-arn " .. RAM.accepted,
          "ResourceShareInvitationAlreadyAcceptedException" },
        { "accept-resource-share-invitation --resource-share-invitation-arn " .. RAM.expired,
          "ResourceShareInvitationExpiredException" },
        { "reject-resource-share-invitation --resource-share-invitation-arn arn:aws:ram:us-east-1:123456789012:"
          .. "resource-share-invitation/nope", "ResourceShareInvitationArnNotFoundException" },
        { "reject-resource-share-invitation --resource-share-invitation-arn subnet-1", "MalformedArnException" },
        { "get-resource-share-invitations --starting-token bm90LWEtdG9rZW4=",
          "InvalidNextTokenException" },
      }
      for _, case in ipairs(CASES) do
        local out, err, rc = aws("ram " .. case[1])
        assert.is_nil(out, case[1])
        assert.truthy(rc ~= 0)
        assert.truthy(err:find(case[2], 1, true), case[2] .. ": " .. tostring(err))
      end
      assert(aws("ram reject-resource-share-invitation --resource-share-invitation-arn " .. RAM.org
        .. " --client-token cli-token-2"))
      local _, err = aws("ram accept-resource-share-invitation --resource-share-invitation-arn " .. RAM.outside
        .. " --client-token cli-token-2")
      assert.truthy(err:find("IdempotentParameterMismatchException", 1, true), err)
      _, err = aws("ram accept-resource-share-invitation --resource-share-invitation-arn " .. RAM.org)
      assert.truthy(err:find("ResourceShareInvitationAlreadyRejectedException", 1, true), err)
    end)
  end)
end
