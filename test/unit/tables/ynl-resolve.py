# Resolve a kernel netlink YAML spec with the kernel's own ynl library (tools/net/ynl/pyynl/lib/nlspec.py of the
# extracted source tree): attribute numbers, subset-of, enum values and operation ids come out as ynl computes
# them, not as this project reads the YAML. Prints JSON. Usage: ynl-resolve.py <linux-src> <spec.yaml>
import json
import os
import sys

src, spec_path = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, 'tools', 'net', 'ynl', 'pyynl', 'lib'))
import nlspec  # noqa: E402

try:
    import jsonschema  # noqa: F401  (validates the spec against Documentation/netlink/<protocol>.yaml)
    schema = None
except ImportError:
    schema = ''
family = nlspec.SpecFamily(spec_path, schema_path=schema)

out = {
    'name': family.name,
    'protocol': family.proto,
    'enums': {},
    'attrSets': {},
    'ops': [],
    'mcastGroups': list(family.mcast_groups.keys()),
    'subMessages': {name: {str(v): f.attr_set for v, f in m.formats.items() if f.attr_set}
                    for name, m in family.sub_msgs.items()},
}
for name, const in family.consts.items():
    if isinstance(const, nlspec.SpecEnumSet):
        out['enums'][name] = {
            'type': const.type,
            'entries': {e.name: e.user_value() for e in const.entries.values()},
        }
for name, attr_set in family.attr_sets.items():
    attrs = []
    for attr in attr_set.attrs.values():
        y = attr.yaml
        attrs.append({
            'name': attr.name, 'value': attr.value, 'type': attr.type,
            'byteOrder': attr.byte_order, 'multi': bool(attr.is_multi),
            'nested': y.get('nested-attributes'), 'subType': attr.sub_type,
            'enum': y.get('enum'), 'enumAsFlags': bool(y.get('enum-as-flags')),
            'struct': attr.struct_name, 'hint': attr.display_hint, 'subMessage': attr.sub_message,
        })
    out['attrSets'][name] = {'subsetOf': attr_set.subset_of, 'attrs': attrs}
for op in family.msgs.values():
    out['ops'].append({'name': op.name, 'req': op.req_value, 'rsp': op.rsp_value, 'async': op.is_async})
json.dump(out, sys.stdout)
