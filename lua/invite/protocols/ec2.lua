--- EC2's query dialect (botocore's "ec2" protocol), the protocol of a declaration with
-- `protocol = "ec2"`: invite.protocols.query's @{invite.protocols.query.ec2}, where the rules that
-- differ from the query protocol are written down.
-- @module invite.protocols.ec2
return require("invite.protocols.query").ec2
