--- invite.version: the version of invite, written here and nowhere else. `invite._VERSION`,
-- `invite --version`, the User-Agent, the C core (make passes it as INVITE_VERSION) and the
-- rockspecs' version (spec/project/rockspec_spec.lua compares them) all come from this line.
-- @module invite.version
return "0.1.0"
