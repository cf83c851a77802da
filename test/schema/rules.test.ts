import t from 'tap';
import { BASE, app, issuesOf, service } from '../manifests/helpers.js';

/**
 * One case per validation rule: the manifests of `text` (as case.yaml, next to a valid
 * base.yaml holding organization acme, project shop, stages staging and production, and
 * service database) and every issue expected, exactly as `setopsd validate` prints it.
 */
interface Case {
  group: string;
  name: string;
  text: string;
  /** Replaces base.yaml ('' for none). */
  base?: string;
  expected: string[];
}

const S = (name: string, spec: string) =>
  `apiVersion: setopsd/v1\nkind: Stage\nmetadata:\n  name: ${name}\n  project: shop\nspec:\n${spec.split('\n').map((l) => '  ' + l).join('\n')}\n`;

const cases: Case[] = [
  {
    group: "port",
    name: "port above 65535",
    text: app('web', 'port: 70000'),
    expected: [
      "case.yaml:7:9: /spec/port: port must be ≤ 65535, got 70000",
    ],
  },
  {
    group: "port",
    name: "port 0",
    text: app('web', 'port: 0'),
    expected: [
      "case.yaml:7:9: /spec/port: port must be ≥ 1, got 0",
    ],
  },
  {
    group: "fields",
    name: "unknown field with suggestion",
    text: app('web', 'prot: http'),
    expected: [
      "case.yaml:7:3: /spec/prot: unknown field \"prot\"; did you mean \"protocol\"?",
    ],
  },
  {
    group: "fields",
    name: "unknown field without suggestion",
    text: app('web', 'colour: blue'),
    expected: [
      "case.yaml:7:3: /spec/colour: unknown field \"colour\"; known fields: \"command\", \"domains\", \"entrypoint\", \"env\", \"healthCheck\", \"image\", \"links\", \"port\", \"preDeploy\", \"protocol\", \"public\", \"resources\", \"scale\", \"schedules\", \"stages\", \"workdir\"",
    ],
  },
  {
    group: "protocol",
    name: "protocol enum",
    text: app('web', 'protocol: htp'),
    expected: [
      "case.yaml:7:13: /spec/protocol: protocol must be one of \"http\", \"tcp\", got \"htp\"; did you mean \"http\"?",
    ],
  },
  {
    group: "resources",
    name: "cpu multiple of 128",
    text: app('web', 'resources:\n  cpu: 300'),
    expected: [
      "case.yaml:8:10: /spec/resources/cpu: cpu must be a multiple of 128, got 300; e.g. 256 or 384",
    ],
  },
  {
    group: "resources",
    name: "memory minimum",
    text: app('web', 'resources:\n  memory: 64'),
    expected: [
      "case.yaml:8:13: /spec/resources/memory: memory must be ≥ 128, got 64",
    ],
  },
  {
    group: "scale",
    name: "scale above 16",
    text: app('web', 'scale: 17'),
    expected: [
      "case.yaml:7:10: /spec/scale: scale must be ≤ 16, got 17",
    ],
  },
  {
    group: "scale",
    name: "scale not a number",
    text: app('web', 'scale: three'),
    expected: [
      "case.yaml:7:10: /spec/scale: scale must be a whole number, got \"three\"",
    ],
  },
  {
    group: "public",
    name: "public not boolean",
    text: app('web', 'public: "yes"'),
    expected: [
      "case.yaml:7:11: /spec/public: public must be true or false, got \"yes\"",
    ],
  },
  {
    group: "names",
    name: "app name pattern",
    text: app('Web_1', 'port: 80'),
    expected: [
      "case.yaml:4:9: /metadata/name: name must be lowercase letters, digits and \"-\", starting with a letter (e.g. \"web-api\"), got \"Web_1\"",
    ],
  },
  {
    group: "names",
    name: "app name too short",
    text: app('we', 'port: 80'),
    expected: [
      "case.yaml:4:9: /metadata/name: name must be at least 3 characters, got \"we\"",
    ],
  },
  {
    group: "names",
    name: "app name too long",
    text: app('a-very-long-app-name', 'port: 80'),
    expected: [
      "case.yaml:4:9: /metadata/name: name must be at most 16 characters, got 20",
    ],
  },
  {
    group: "names",
    name: "service name too long",
    text: service('a-very-long-service-nam', 'type: redis'),
    expected: [
      "case.yaml:4:9: /metadata/name: name must be at most 18 characters, got 23",
    ],
  },
  {
    group: "names",
    name: "stage name too long",
    text: S('a-very-long-stage', 'approval: auto'),
    expected: [
      "case.yaml:4:9: /metadata/name: name must be at most 12 characters, got 17",
    ],
  },
  {
    group: "env",
    name: "env keys: reserved, pattern, bad values",
    text: app('web', 'env:\n  PORT: "1"\n  1BAD: x\n  OK: {secret: db-pass}\n  NUM: 5\n  OBJ: {foo: 1}\n  NIL: null'),
    expected: [
      "case.yaml:8:5: /spec/env/PORT: env key \"PORT\" is reserved (set by the platform); use another name",
      "case.yaml:9:5: /spec/env/1BAD: env key \"1BAD\" must be letters, digits and \"_\", not starting with a digit",
      "case.yaml:12:10: /spec/env/OBJ: missing required field \"secret\"",
      "case.yaml:12:11: /spec/env/OBJ/foo: unknown field \"foo\"; known fields: \"secret\"",
      "case.yaml:13:10: /spec/env/NIL: NIL must be a string or { secret: NAME }, got nothing (null)",
    ],
  },
  {
    group: "env",
    name: "env reserved APP_ENV_ID, PORTS, PROTOCOL",
    text: app('web', 'env:\n  APP_ENV_ID: a\n  PORTS: b\n  PROTOCOL: c'),
    expected: [
      "case.yaml:8:5: /spec/env/APP_ENV_ID: env key \"APP_ENV_ID\" is reserved (set by the platform); use another name",
      "case.yaml:9:5: /spec/env/PORTS: env key \"PORTS\" is reserved (set by the platform); use another name",
      "case.yaml:10:5: /spec/env/PROTOCOL: env key \"PROTOCOL\" is reserved (set by the platform); use another name",
    ],
  },
  {
    group: "secrets",
    name: "secret where a plain value is required",
    text: app('web', 'image: {secret: x}\nworkdir: {secret: y}'),
    expected: [
      "case.yaml:7:10: /spec/image: image must be a string: {secret: …} is only allowed as an app env value; write the value here or move it to env",
      "case.yaml:8:12: /spec/workdir: workdir must be a string: {secret: …} is only allowed as an app env value; write the value here or move it to env",
    ],
  },
  {
    group: "secrets",
    name: "secret name pattern",
    text: app('web', 'env:\n  A: {secret: "1 bad"}'),
    expected: [
      "case.yaml:8:17: /spec/env/A/secret: secret must be letters, digits, \"_\", \".\", \"/\" and \"-\", starting with a letter or \"_\", got \"1 bad\"",
    ],
  },
  {
    group: "command",
    name: "command empty list",
    text: app('web', 'command: []'),
    expected: [
      "case.yaml:7:12: /spec/command: command must not be empty",
    ],
  },
  {
    group: "command",
    name: "command wrong type",
    text: app('web', 'command: 5'),
    expected: [
      "case.yaml:7:12: /spec/command: command must be a string (shell form) or a non-empty list of strings (exec form), got 5",
    ],
  },
  {
    group: "command",
    name: "entrypoint list of non-strings",
    text: app('web', 'entrypoint: [node, 5]'),
    expected: [
      "case.yaml:7:22: /spec/entrypoint/1: entrypoint[1] must be a string, got 5; put it in quotes: \"5\"",
    ],
  },
  {
    group: "command",
    name: "preDeploy needs command",
    text: app('web', 'preDeploy: {}'),
    expected: [
      "case.yaml:7:14: /spec/preDeploy: missing required field \"command\"",
    ],
  },
  {
    group: "links",
    name: "link service name rules",
    text: app('web', 'links:\n  - service: db'),
    expected: [
      "case.yaml:8:16: /spec/links/0/service: service must be at least 3 characters, got \"db\"",
    ],
  },
  {
    group: "links",
    name: "link without service",
    text: app('web', 'links:\n  - envKey: X'),
    expected: [
      "case.yaml:8:7: /spec/links/0: missing required field \"service\"",
    ],
  },
  {
    group: "links",
    name: "link to unknown service",
    text: app('web', 'links:\n  - service: databse'),
    expected: [
      "case.yaml:8:16: /spec/links/0/service: app \"web\" links service \"databse\" which does not exist in stages production, staging; known services: database; did you mean \"database\"?",
    ],
  },
  {
    group: "links",
    name: "link twice",
    text: app('web', 'links:\n  - service: database\n  - service: database'),
    expected: [
      "case.yaml:9:7: /spec/links/1: app \"web\" links service \"database\" twice; remove one",
    ],
  },
  {
    group: "links",
    name: "link to excluded service",
    text: app('web', 'links:\n  - service: database') + '---\n' + S('preview', 'exclude: [database]'),
    expected: [
      "case.yaml:8:16: /spec/links/0/service: app \"web\" links service \"database\" which does not exist in stage preview; known services: none",
    ],
  },
  {
    group: "links",
    name: "link to a service pinned to another stage",
    text: service('cache', 'type: redis', '  stage: production\n') + '---\n' + app('web', 'links:\n  - service: cache'),
    expected: [
      "case.yaml:17:16: /spec/links/0/service: app \"web\" links service \"cache\" which does not exist in stage staging; known services: database",
    ],
  },
  {
    group: "links",
    name: "volume link needs path; path only for volumes",
    text: service('files', 'type: volume') + '---\n' + app('web', 'links:\n  - service: files\n  - service: database\n    path: /data'),
    expected: [
      "case.yaml:16:7: /spec/links/0: link to volume service \"files\" needs a mount path; add path: /data (any absolute path)",
      "case.yaml:18:7: /spec/links/1/path: path and readOnly are only for volume services; \"database\" is a postgresql service",
    ],
  },
  {
    group: "domains",
    name: "domains: bad name",
    text: app('web', 'public: true\ndomains:\n  - shop.example.com\n  - {name: Bad_Domain}'),
    expected: [
      "case.yaml:10:14: /spec/domains/1/name: name must be a lowercase DNS name such as shop.example.com, got \"Bad_Domain\"",
    ],
  },
  {
    group: "domains",
    name: "domains: two primaries, listed twice",
    text: app('web', 'public: true\ndomains:\n  - shop.example.com\n  - name: a.example.com\n    primary: true\n  - name: b.example.com\n    primary: true\n  - shop.example.com'),
    expected: [
      "case.yaml:13:16: /spec/domains/2/primary: app \"web\" has more than one primary domain; mark only one primary: true",
      "case.yaml:14:7: /spec/domains/3: domain \"shop.example.com\" is listed twice for app \"web\"; remove one",
    ],
  },
  {
    group: "domains",
    name: "two public apps on one domain",
    text: app('web', 'public: true\ndomains: [shop.example.com]') + '---\n' + app('api', 'public: true\ndomains: [shop.example.com]', '  stage: staging\n'),
    expected: [
      "case.yaml:8:13: /spec/domains/0: domain \"shop.example.com\" is already used by public app \"api\" in stage staging; a domain routes to one app",
    ],
  },
  {
    group: "healthCheck",
    name: "health check status and path",
    text: app('web', 'healthCheck:\n  status: "abc"\n  path: healthz\n  interval: 1'),
    expected: [
      "case.yaml:8:13: /spec/healthCheck/status: status must be HTTP status codes or ranges such as 200-399 or 200,204, got \"abc\"",
      "case.yaml:9:11: /spec/healthCheck/path: path must start with \"/\", got \"healthz\"",
      "case.yaml:10:15: /spec/healthCheck/interval: interval must be ≥ 5, got 1",
    ],
  },
  {
    group: "overrides",
    name: "override for unknown stage, invalid merged spec",
    text: app('web', 'stages:\n  prodution:\n    scale: 2\n  production:\n    scale: 20\n    prot: tcp'),
    expected: [
      "case.yaml:8:5: /spec/stages/prodution: override for stage \"prodution\" matches no stage of project shop; known stages: production, staging; did you mean \"production\"?",
      "case.yaml:11:14: /spec/stages/production/scale: scale must be ≤ 16, got 20 (in stage production, after its override)",
      "case.yaml:12:7: /spec/stages/production/prot: unknown field \"prot\"; did you mean \"protocol\"? (in stage production, after its override)",
    ],
  },
  {
    group: "overrides",
    name: "override removes a required field",
    text: service('cache', 'type: redis\nstages:\n  staging:\n    type: null'),
    expected: [
      "case.yaml:10:7: /spec/stages/staging/type: missing required field \"type\": the override removes it (in stage staging, after its override)",
    ],
  },
  {
    group: "overrides",
    name: "override makes the version invalid for the base type",
    text: service('cache', 'type: redis\nstages:\n  staging:\n    version: 9'),
    expected: [
      "case.yaml:10:16: /spec/stages/staging/version: version must be a supported redis version (6, 7), got \"9\" (in stage staging, after its override)",
    ],
  },
  {
    group: "overrides",
    name: "override on an app pinned to another stage",
    text: app('web', 'stages:\n  production:\n    scale: 2', '  stage: staging\n'),
    expected: [
      "case.yaml:9:5: /spec/stages/production: override for stage \"production\" never applies: app \"web\" exists only in stage \"staging\"",
    ],
  },
  {
    group: "overrides",
    name: "override is not a mapping",
    text: app('web', 'stages:\n  production: 3'),
    expected: [
      "case.yaml:8:17: /spec/stages/production: production must be a mapping (a JSON merge patch of the spec for that stage), got 3",
    ],
  },
  {
    group: "services",
    name: "service version per type",
    text: service('cache', 'type: redis\nversion: 9'),
    expected: [
      "case.yaml:8:12: /spec/version: version must be a supported redis version (6, 7), got \"9\"",
    ],
  },
  {
    group: "services",
    name: "postgresql version range",
    text: service('db2', 'type: postgresql\nversion: 12'),
    expected: [
      "case.yaml:8:12: /spec/version: version must be a supported postgresql version (13, 14, 15, 16, 17), got \"12\"",
    ],
  },
  {
    group: "services",
    name: "service type enum",
    text: service('cache', 'type: mysql'),
    expected: [
      "case.yaml:7:9: /spec/type: type must be one of \"documentdb\", \"elasticsearch\", \"postgresql\", \"redis\", \"s3\", \"volume\", got \"mysql\"",
    ],
  },
  {
    group: "services",
    name: "service without type",
    text: service('cache', 'version: "7"'),
    expected: [
      "case.yaml:7:3: /spec: missing required field \"type\"",
    ],
  },
  {
    group: "services",
    name: "s3 has no version",
    text: service('files', 'type: s3\nversion: "1"'),
    expected: [
      "case.yaml:8:3: /spec/version: s3 and volume services have no version; remove it",
    ],
  },
  {
    group: "services",
    name: "postgresql options",
    text: service('db2', 'type: postgresql\noptions:\n  minStorage: 10\n  foo: 1'),
    expected: [
      "case.yaml:9:17: /spec/options/minStorage: minStorage must be ≥ 20, got 10",
      "case.yaml:10:5: /spec/options/foo: unknown field \"foo\"; known fields: \"extensions\", \"maxStorage\", \"minStorage\"",
    ],
  },
  {
    group: "services",
    name: "s3 options",
    text: service('files', 'type: s3\noptions:\n  blockPublicAccess: maybe'),
    expected: [
      "case.yaml:9:24: /spec/options/blockPublicAccess: blockPublicAccess must be true or false, got \"maybe\"",
    ],
  },
  {
    group: "services",
    name: "backup retention",
    text: service('db2', 'type: postgresql\nbackup:\n  retentionDays: 90'),
    expected: [
      "case.yaml:9:20: /spec/backup/retentionDays: retentionDays must be ≤ 35, got 90",
    ],
  },
  {
    group: "yaml",
    name: "YAML syntax error",
    text: 'apiVersion: setopsd/v1\nkind: App\nmetadata:\n  name: web\n  project: shop\nspec:\n  port: [1, 2\n',
    expected: [
      "case.yaml:8:1: /: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ] (BAD_INDENT)",
    ],
  },
  {
    group: "yaml",
    name: "YAML duplicate key",
    text: 'apiVersion: setopsd/v1\nkind: App\nmetadata:\n  name: web\n  project: shop\n  project: x\n',
    expected: [
      "case.yaml:6:3: /metadata/project: duplicate key \"project\" (first at line 5, column 3); a key may appear once in a mapping, remove one",
    ],
  },
  {
    group: "yaml",
    name: "YAML tab indentation",
    text: 'apiVersion: setopsd/v1\nkind: App\nmetadata:\n\tname: web\n',
    expected: [
      "case.yaml:4:1: /: YAML syntax error: Tabs are not allowed as indentation (TAB_AS_INDENT)",
    ],
  },
  {
    group: "envelope",
    name: "document is not a mapping",
    text: 'hello',
    expected: [
      "case.yaml:1:1: /: a manifest must be a mapping with apiVersion, kind, metadata and spec, got a scalar",
    ],
  },
  {
    group: "envelope",
    name: "document is a list",
    text: '- a\n- b\n',
    expected: [
      "case.yaml:1:1: /: a manifest must be a mapping with apiVersion, kind, metadata and spec, got a list",
    ],
  },
  {
    group: "envelope",
    name: "unknown kind",
    text: 'apiVersion: setopsd/v1\nkind: Ap\nmetadata:\n  name: web\n',
    expected: [
      "case.yaml:2:7: /kind: unknown kind \"Ap\"; kinds are Organization, Project, Stage, App, Service, Policy; did you mean \"App\"?",
    ],
  },
  {
    group: "envelope",
    name: "missing kind",
    text: 'apiVersion: setopsd/v1\nmetadata:\n  name: web\n',
    expected: [
      "case.yaml:1:1: /: missing required field \"kind\"; one of Organization, Project, Stage, App, Service, Policy",
    ],
  },
  {
    group: "envelope",
    name: "wrong apiVersion",
    text: 'apiVersion: v1\nkind: App\nmetadata:\n  name: web\n',
    expected: [
      "case.yaml:1:13: /apiVersion: apiVersion must be \"setopsd/v1\", got \"v1\"",
    ],
  },
  {
    group: "envelope",
    name: "missing apiVersion and metadata",
    text: 'kind: Project\n',
    expected: [
      "case.yaml:1:1: /: missing required field \"apiVersion\"; add apiVersion: setopsd/v1",
      "case.yaml:1:1: /: missing required field \"metadata\"",
    ],
  },
  {
    group: "envelope",
    name: "unknown top-level field",
    text: app('web', 'port: 80') + 'status: {}\n',
    expected: [
      "case.yaml:8:1: /status: unknown field \"status\"; known fields: \"apiVersion\", \"kind\", \"metadata\", \"spec\"",
    ],
  },
  {
    group: "envelope",
    name: "service needs a spec",
    text: 'apiVersion: setopsd/v1\nkind: Service\nmetadata:\n  name: cache\n  project: shop\n',
    expected: [
      "case.yaml:1:1: /: missing required field \"spec\"; add a spec",
    ],
  },
  {
    group: "scope",
    name: "two organizations: scope must name one",
    text: 'apiVersion: setopsd/v1\nkind: Organization\nmetadata:\n  name: other\n',
    expected: [
      "base.yaml:9:3: /metadata: project \"shop\" must name its organization (metadata.organization): there are 2: acme, other",
      "base.yaml:14:3: /metadata: stage \"staging\" must name its organization (metadata.organization): there are 2: acme, other",
      "base.yaml:20:3: /metadata: stage \"production\" must name its organization (metadata.organization): there are 2: acme, other",
      "base.yaml:29:3: /metadata: service \"database\" must name its organization (metadata.organization): there are 2: acme, other",
    ],
  },
  {
    group: "scope",
    name: "no organization at all",
    text: 'apiVersion: setopsd/v1\nkind: Project\nmetadata:\n  name: blog\n',
    base: "",
    expected: [
      "case.yaml:4:3: /metadata: project \"blog\" has no organization: no Organization manifest was found; add one (kind: Organization)",
    ],
  },
  {
    group: "scope",
    name: "App needs a project",
    text: 'apiVersion: setopsd/v1\nkind: App\nmetadata:\n  name: web\nspec: {}\n',
    expected: [
      "case.yaml:4:3: /metadata: missing required field \"project\"; name the project this belongs to",
    ],
  },
  {
    group: "scope",
    name: "unknown project",
    text: 'apiVersion: setopsd/v1\nkind: App\nmetadata:\n  name: web\n  project: shp\n',
    expected: [
      "case.yaml:5:12: /metadata/project: project \"shp\" does not exist in organization acme; known projects: shop; did you mean \"shop\"?",
    ],
  },
  {
    group: "scope",
    name: "unknown organization",
    text: 'apiVersion: setopsd/v1\nkind: Project\nmetadata:\n  name: blog\n  organization: acm\n',
    expected: [
      "case.yaml:5:17: /metadata/organization: organization \"acm\" does not exist; known organizations: acme; did you mean \"acme\"?",
    ],
  },
  {
    group: "scope",
    name: "unknown stage in metadata",
    text: app('web', 'port: 80', '  stage: prod\n'),
    expected: [
      "case.yaml:6:10: /metadata/stage: stage \"prod\" does not exist in project shop; known stages: production, staging; did you mean \"production\"?",
    ],
  },
  {
    group: "scope",
    name: "duplicate app: project-wide and pinned",
    text: app('web', 'port: 80') + '---\n' + app('web', 'port: 81', '  stage: staging\n'),
    expected: [
      "case.yaml:12:9: /metadata/name: app \"web\" is declared twice in project shop stage staging (first at case.yaml:4:9); rename or remove one",
    ],
  },
  {
    group: "scope",
    name: "duplicate stage",
    text: S('staging', 'approval: manual'),
    expected: [
      "case.yaml:4:9: /metadata/name: stage \"staging\" is declared twice in project shop (first at base.yaml:14:9); rename or remove one",
    ],
  },
  {
    group: "scope",
    name: "duplicate organization",
    text: 'apiVersion: setopsd/v1\nkind: Organization\nmetadata:\n  name: acme\n',
    expected: [
      "case.yaml:4:9: /metadata/name: organization \"acme\" is declared twice (first at base.yaml:4:9); rename or remove one",
    ],
  },
  {
    group: "scope",
    name: "same name pinned to two stages is fine, twice to one is not",
    text: app('web', 'port: 80', '  stage: staging\n') + '---\n' + app('web', 'port: 81', '  stage: production\n') + '---\n' + app('web', 'port: 82', '  stage: production\n'),
    expected: [
      "case.yaml:22:9: /metadata/name: app \"web\" is declared twice in project shop stage production (first at case.yaml:13:9); rename or remove one",
    ],
  },
  {
    group: "stages",
    name: "after: unknown stage and itself",
    text: S('preview', 'after: stagin') + '---\n' + S('qa-one', 'after: qa-one'),
    expected: [
      "case.yaml:7:10: /spec/after: stage \"stagin\" does not exist in project shop; known stages: production, qa-one, staging; did you mean \"staging\"?",
      "case.yaml:15:10: /spec/after: stage \"qa-one\" cannot come after itself; name another stage of project shop or remove after",
    ],
  },
  {
    group: "stages",
    name: "after cycle",
    text: S('qa-one', 'after: qa-two') + '---\n' + S('qa-two', 'after: qa-three') + '---\n' + S('qa-three', 'after: qa-one'),
    expected: [
      "case.yaml:7:10: /spec/after: stages qa-one → qa-two → qa-three → qa-one form an \"after\" cycle in project shop; remove after from one of them",
    ],
  },
  {
    group: "stages",
    name: "exclude unknown name",
    text: S('preview', 'exclude: [databse]'),
    expected: [
      "case.yaml:7:13: /spec/exclude/0: exclude names \"databse\", which is no app or service of project shop in stage preview; did you mean \"database\"?",
    ],
  },
  {
    group: "stages",
    name: "exclude lists a name twice",
    text: S('preview', 'exclude: [database, database]'),
    expected: [
      "case.yaml:7:13: /spec/exclude/0: exclude lists \"database\" twice; remove one",
    ],
  },
  {
    group: "stages",
    name: "approval enum",
    text: S('preview', 'approval: never'),
    expected: [
      "case.yaml:7:13: /spec/approval: approval must be one of \"auto\", \"manual\", got \"never\"",
    ],
  },
  {
    group: "stages",
    name: "notifications shapes",
    text: S('preview', 'notifications:\n  - email: not-an-email\n  - webhook: ftp://x\n  - slack: x\n  - email: a@b.example\n    name: Ops'),
    expected: [
      "case.yaml:8:14: /spec/notifications/0/email: email must be an e-mail address, got \"not-an-email\"",
      "case.yaml:9:16: /spec/notifications/1/webhook: webhook must be an http(s) URL, got \"ftp://x\"",
      "case.yaml:10:7: /spec/notifications/2: notifications[2] must be { email: ADDRESS } or { webhook: URL }, with an optional name, got a mapping with slack",
      "case.yaml:12:13: /spec/notifications/3/name: name must be lowercase letters, digits and \"-\", starting with a letter (e.g. \"web-api\"), got \"Ops\"",
    ],
  },
  {
    group: "stages",
    name: "notification names unique",
    text: S('preview', 'notifications:\n  - {email: a@acme.example, name: ops}\n  - {webhook: https://hooks.example/x, name: ops}'),
    expected: [
      "case.yaml:9:48: /spec/notifications/1/name: notification name \"ops\" is used twice in stage preview; names must be unique",
    ],
  },
  {
    group: "organization",
    name: "aws provider needs aws.region",
    text: 'apiVersion: setopsd/v1\nkind: Organization\nmetadata:\n  name: other\nspec:\n  provider: aws\n  aws:\n    accountId: 1234\n',
    base: "",
    expected: [
      "case.yaml:8:5: /spec/aws: missing required field \"region\"",
      "case.yaml:8:16: /spec/aws/accountId: accountId must be a string, got 1234; put it in quotes: \"1234\"",
    ],
  },
  {
    group: "organization",
    name: "organization backend and secrets",
    text: 'apiVersion: setopsd/v1\nkind: Organization\nmetadata:\n  name: other\nspec:\n  backend: ftp://x\n  secrets:\n    vault: x\n',
    base: "",
    expected: [
      "case.yaml:6:12: /spec/backend: backend must be a Pulumi backend URL: file://…, s3://…, gs://…, azblob://… or https://…, got \"ftp://x\"",
      "case.yaml:8:5: /spec/secrets/vault: unknown field \"vault\"; known fields: \"env\", \"file\"",
    ],
  },
  {
    group: "overrides",
    name: "null for a field that does not exist is a typo",
    text: app('web', 'port: 80\nstages:\n  production:\n    prot: null\n    healthCheck:\n      pth: null'),
    expected: [
      "case.yaml:10:7: /spec/stages/production/prot: unknown field \"prot\"; removing it changes nothing; did you mean \"protocol\"? (in stage production, after its override)",
      "case.yaml:12:9: /spec/stages/production/healthCheck/pth: unknown field \"pth\"; removing it changes nothing; did you mean \"path\"? (in stage production, after its override)",
    ],
  },
  {
    group: "yaml",
    name: "unknown tags are reported, not read as strings",
    text: app('web', 'image: !Ref ImageParam'),
    expected: [
      "case.yaml:7:10: /: unknown YAML tag !Ref; setopsd reads plain YAML values, remove the tag",
    ],
  },
  {
    group: "yaml",
    name: "binary values",
    text: app('web', 'image: !!binary aGVsbG8='),
    expected: [
      "case.yaml:7:19: /spec/image: image must be a string, got binary data",
    ],
  },
  {
    group: "secrets",
    name: "credentials in a URL are never echoed",
    text: 'apiVersion: setopsd/v1\nkind: Organization\nmetadata:\n  name: other\nspec:\n  backend: ftp://user:hunter2@state.example/x\n',
    base: '',
    expected: [
      "case.yaml:6:12: /spec/backend: backend must be a Pulumi backend URL: file://…, s3://…, gs://…, azblob://… or https://…, got a URL with credentials (not shown)",
    ],
  },
  {
    group: "scope",
    name: "an invalid service is still known: links to it add no follow-up problem",
    text: "apiVersion: setopsd/v1\nkind: Service\nmetadata:\n  name: cache\n  project: shop\nextra: 1\n---\n" + app('web', 'links:\n  - service: cache\n  - service: database'),
    expected: [
      "case.yaml:1:1: /: missing required field \"spec\"; add a spec",
      "case.yaml:6:1: /extra: unknown field \"extra\"; known fields: \"apiVersion\", \"kind\", \"metadata\", \"spec\"",
    ],
  },
  {
    group: "overrides",
    name: "overrides do not nest",
    text: app('web', 'stages:\n  production:\n    stages:\n      staging:\n        scale: 2'),
    expected: [
      "case.yaml:9:7: /spec/stages/production/stages: an override cannot hold stages: overrides do not nest; write each stage under the top-level stages (in stage production, after its override)",
    ],
  },
  {
    group: "names",
    name: "project name too long",
    text: 'apiVersion: setopsd/v1\nkind: Project\nmetadata:\n  name: a-project-name-too-long\n',
    expected: [
      "case.yaml:4:9: /metadata/name: name must be at most 20 characters, got 23",
    ],
  },
  {
    group: "names",
    name: "organization name pattern",
    text: 'apiVersion: setopsd/v1\nkind: Organization\nmetadata:\n  name: 1acme\n',
    base: "",
    expected: [
      "case.yaml:4:9: /metadata/name: name must be lowercase letters, digits and \"-\", starting with a letter (e.g. \"web-api\"), got \"1acme\"",
    ],
  },
  {
    group: "scope",
    name: "Stage needs a project",
    text: 'apiVersion: setopsd/v1\nkind: Stage\nmetadata:\n  name: preview\n',
    expected: [
      "case.yaml:4:3: /metadata: missing required field \"project\"; name the project this belongs to",
    ],
  },
  {
    group: "services",
    name: "documentdb and elasticsearch versions and options",
    text: service('docs', 'type: documentdb\nversion: 5\noptions:\n  scale: 0') + '---\n' + service('search', 'type: elasticsearch\nversion: "8"\noptions:\n  storage: 5\n  shards: 2'),
    expected: [
      "case.yaml:8:12: /spec/version: version must be a supported documentdb version (4), got \"5\"",
      "case.yaml:10:12: /spec/options/scale: scale must be ≥ 1, got 0",
      "case.yaml:19:12: /spec/version: version must be a supported elasticsearch version (7), got \"8\"",
      "case.yaml:21:14: /spec/options/storage: storage must be ≥ 10, got 5",
      "case.yaml:22:5: /spec/options/shards: unknown field \"shards\"; known fields: \"storage\"",
    ],
  },
  {
    group: "services",
    name: "redis takes no options",
    text: service('cache', 'type: redis\noptions:\n  maxmemory: 1gb'),
    expected: [
      "case.yaml:9:5: /spec/options/maxmemory: unknown field \"maxmemory\"; no fields are allowed here",
    ],
  },

];

for (const c of cases) {
  t.test(`${c.group}: ${c.name}`, async (t) => {
    t.strictSame(issuesOf(c.text, c.base ?? BASE), c.expected);
  });
}

t.test('every case expects at least one issue (accepted values are tested in manifests/resolve.test.ts)', async (t) => {
  for (const c of cases) t.ok(c.expected.length > 0, c.name);
});
