"""Write every IAM policy document of template.yaml as a JSON file, for the
offline IAM linter (parliament) of `make lint-aws`.

The SAM transform runs first (aws-sam-translator, offline), so the roles SAM
creates for each function and state machine appear with their inline
policies, SAM policy templates (LambdaInvokePolicy, ...) expanded, and the
managed policies they reference. Intrinsic functions are then resolved to
the ARNs a stack in account 123456789012, us-east-1, would have, so the
linter sees real resource ARNs.

usage: template_policies.py TEMPLATE OUTDIR
"""

import json
import os
import re
import sys

import yaml
from samtranslator.translator.transform import transform

REGION, ACCOUNT, PARTITION = "us-east-1", "123456789012", "aws"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": PARTITION,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "jit",
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/jit/00000000-0000-0000-0000-000000000000",
}


class Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !Sub, ...)."""


def _short_form(loader, tag, node):
    name = tag  # the tag less its "!"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if name == "Ref":
        return {"Ref": value}
    if name == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::" + name: value}


Loader.add_multi_constructor("!", _short_form)


class NoManagedPolicies:
    """The translator asks IAM for AWS managed policy ARNs by name; the
    template names none, so there is nothing to look up (and no network)."""

    def load(self):
        return {}


def translate(template):
    """The SAM transform, with local code and definition paths replaced by
    S3 locations (the translator accepts only those; the paths do not
    change any policy)."""
    for res in template.get("Resources", {}).values():
        props = res.get("Properties", {})
        if res.get("Type") == "AWS::Serverless::Function":
            props["CodeUri"] = "s3://bucket/code.zip"
        if res.get("Type") == "AWS::Serverless::StateMachine" and "DefinitionUri" in props:
            props["DefinitionUri"] = {"Bucket": "bucket", "Key": "definition.asl.json"}
    fn_globals = template.get("Globals", {}).get("Function", {})
    if "CodeUri" in fn_globals:
        fn_globals["CodeUri"] = "s3://bucket/code.zip"
    params = {k: v.get("Default", "") for k, v in template.get("Parameters", {}).items()}
    # The translator reads the region from the environment (it never calls AWS).
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    return transform(template, dict(params, **{"AWS::Region": REGION}), NoManagedPolicies()), params


ARN_FORMATS = {
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{r}:{a}:table/{n}",
    "AWS::Lambda::Function": "arn:aws:lambda:{r}:{a}:function:{n}",
    "AWS::StepFunctions::StateMachine": "arn:aws:states:{r}:{a}:stateMachine:{n}",
    "AWS::IAM::Role": "arn:aws:iam::{a}:role/{n}",
    "AWS::IAM::ManagedPolicy": "arn:aws:iam::{a}:policy/{n}",
    "AWS::SNS::Topic": "arn:aws:sns:{r}:{a}:{n}",
    "AWS::SQS::Queue": "arn:aws:sqs:{r}:{a}:{n}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{r}:{a}:log-group:{n}:*",
    "AWS::Scheduler::Schedule": "arn:aws:scheduler:{r}:{a}:schedule/default/{n}",
}
# Resources whose Ref is their ARN; every other Ref is the physical name.
REF_IS_ARN = {"AWS::StepFunctions::StateMachine", "AWS::IAM::ManagedPolicy", "AWS::SNS::Topic"}


class Resolver:
    def __init__(self, resources, params):
        self.resources, self.params = resources, params

    def name(self, logical_id):
        res = self.resources[logical_id]
        props = res.get("Properties", {})
        for key in ("LogGroupName", "TableName", "FunctionName", "RoleName", "StateMachineName"):
            if isinstance(props.get(key), str):
                return props[key]
        return logical_id

    def arn(self, logical_id):
        typ = self.resources[logical_id]["Type"]
        if typ not in ARN_FORMATS:
            raise ValueError(f"no ARN format for {logical_id} ({typ})")
        return ARN_FORMATS[typ].format(r=REGION, a=ACCOUNT, n=self.name(logical_id))

    def ref(self, name):
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.params:
            return str(self.params[name])
        if name in self.resources:
            if self.resources[name]["Type"] in REF_IS_ARN:
                return self.arn(name)
            return self.name(name)
        raise ValueError(f"Ref to unknown {name}")

    def get_att(self, logical_id, attr):
        if attr == "Arn":
            return self.arn(logical_id)
        if attr == "Name":
            return self.name(logical_id)
        raise ValueError(f"GetAtt {logical_id}.{attr} is not modelled")

    def sub(self, arg):
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def one(m):
            var = m.group(1)
            if var.startswith("!"):
                return "${" + var[1:] + "}"
            if var in variables:
                return str(self.value(variables[var]))
            if "." in var and var.split(".", 1)[0] in self.resources:
                return self.get_att(*var.split(".", 1))
            return self.ref(var)

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def value(self, v):
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (key, arg), = v.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                return self.get_att(*(arg if isinstance(arg, list) else arg.split(".", 1)))
            if key == "Fn::Sub":
                return self.sub(arg)
            if key == "Fn::Join":
                return arg[0].join(str(x) for x in self.value(arg[1]))
            if key == "Fn::Split":
                return str(self.value(arg[1])).split(arg[0])
            if key.startswith("Fn::"):
                raise ValueError(f"{key} is not modelled")
        return {k: self.value(x) for k, x in v.items()}


def documents(resources):
    """(file name, document) for every policy document in the translated
    template."""
    for lid, res in resources.items():
        props = res.get("Properties", {})
        typ = res["Type"]
        if typ == "AWS::IAM::Role":
            yield f"{lid}.trust", props["AssumeRolePolicyDocument"]
            for p in props.get("Policies", []):
                yield f"{lid}.{p['PolicyName']}", p["PolicyDocument"]
        elif typ in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            yield lid, props["PolicyDocument"]


def main(template_path, out):
    with open(template_path) as f:
        template = yaml.load(f, Loader=Loader)  # noqa: S506 - SafeLoader subclass
    cfn, params = translate(template)
    resolver = Resolver(cfn["Resources"], params)
    os.makedirs(out, exist_ok=True)
    count = 0
    for name, doc in documents(cfn["Resources"]):
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(resolver.value(doc), f, indent=2, sort_keys=True)
        count += 1
    if count == 0:
        sys.exit(f"{template_path}: no IAM policy documents found")
    print(f"{count} policy documents of {template_path} written to {out}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
