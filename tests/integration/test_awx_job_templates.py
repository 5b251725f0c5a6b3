# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The AWX job templates, surveys and BMC credential type of docs/awx/ against the roles.

- every survey variable is an option of a role the playbook runs
  (meta/argument_specs.yml), with an AWX survey type that fits the option's
  type, and multiple-choice answers that are among the option's choices;
- the job template's extra vars are role options or variables the playbook
  reads, and together with each survey default they pass the roles' own
  argument validation (the one the role runs at its start);
- the BMC credential type injects only its own inputs, marks the password
  secret, and its environment variables are exactly those the job templates
  read into node_power's username and password options.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

REPO = Path(__file__).resolve().parents[2]
AWX = REPO / 'docs' / 'awx'
sys.path.insert(0, str(REPO / 'docs' / 'tools'))
from playbook_variables import playbook_roles  # noqa: E402  pylint: disable=wrong-import-position

TEMPLATES = sorted(path for path in AWX.glob('*.yml') if path.name != 'bmc_credential_type.yml')
CREDENTIAL_TYPE = AWX / 'bmc_credential_type.yml'
PLAYBOOKS_WITH_TEMPLATES = {'playbooks/image_nodes.yml', 'playbooks/provision_diskless.yml'}

# AWX survey question types each argument spec type may be asked with.
SURVEY_TYPES = {
    'str': {'text', 'textarea', 'password', 'multiplechoice'},
    'path': {'text', 'textarea', 'multiplechoice'},
    'raw': {'text', 'textarea', 'multiplechoice'},
    'int': {'integer'},
    'float': {'float', 'integer'},
    'bool': {'multiplechoice'},
    'list': {'multiselect'},
}
BOOL_ANSWERS = {'true', 'false'}
ENV_LOOKUP = re.compile(r"lookup\(\s*'(?:ansible\.builtin\.)?env'\s*,\s*'([A-Z0-9_]+)'")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding='utf-8'))


def role_specs(playbook: Path) -> dict[str, dict]:
    """{role: options of the entry point the playbook runs} for the collection's roles in the playbook."""
    specs = {}
    for role, entry_point in playbook_roles(playbook):
        spec = load(REPO / 'roles' / role / 'meta' / 'argument_specs.yml')['argument_specs'][entry_point]
        specs[role] = spec.get('options') or {}
    return specs


def template_parts(path: Path) -> tuple[dict, dict, dict, Path]:
    data = load(path)
    job_template, survey = data['job_template'], data['survey_spec']
    return job_template, survey, yaml.safe_load(job_template['extra_vars']) or {}, REPO / job_template['playbook']


def option_of(specs: dict[str, dict], variable: str) -> dict | None:
    for options in specs.values():
        if variable in options:
            return options[variable]
    return None


def survey_problems(specs: dict[str, dict], survey: dict) -> list[str]:
    problems = []
    for question in survey['spec']:
        variable, kind = question['variable'], question['type']
        option = option_of(specs, variable)
        if option is None:
            problems.append('%s: not an option of the roles %s' % (variable, ', '.join(specs)))
            continue
        option_type = option.get('type', 'str')
        if kind not in SURVEY_TYPES.get(option_type, set()):
            problems.append('%s: survey type %s for an option of type %s' % (variable, kind, option_type))
        answers = question.get('choices')
        if isinstance(answers, str):
            answers = answers.split('\n')
        if kind in ('multiplechoice', 'multiselect'):
            allowed = {str(choice) for choice in option.get('choices') or []}
            if option_type == 'bool':
                allowed = BOOL_ANSWERS
            if not allowed:
                problems.append('%s: multiple choice for an option without choices' % variable)
            elif not answers or set(answers) - allowed:
                problems.append('%s: answers %s are not among the choices %s' % (variable, answers, sorted(allowed)))
        elif option.get('choices'):
            problems.append('%s: free answer for an option with choices %s' % (variable, option['choices']))
        if option.get('no_log') and kind != 'password':
            problems.append('%s: a secret option asked without the password type' % variable)
        if 'default' in question and answers and str(question['default']) not in answers:
            problems.append('%s: default %r is not one of the answers' % (variable, question['default']))
    return problems


def validation_errors(specs: dict[str, dict], variables: dict) -> list[str]:
    """Each role's own argument validation of the variables meant for it."""
    errors = []
    for role, options in specs.items():
        mine = {name: value for name, value in variables.items() if name in options}
        result = ArgumentSpecValidator(options).validate(mine)
        errors.extend('%s: %s' % (role, message) for message in result.error_messages)
    return errors


def survey_answers(survey: dict) -> list[dict]:
    """One set of answers per question value AWX can send: the default, each choice, min and max."""
    sets = []
    for question in survey['spec']:
        values = [question['default']] if 'default' in question else []
        if question['type'] in ('integer', 'float'):
            values += [question[key] for key in ('min', 'max') if key in question]
        values += list(question.get('choices') or [])
        for value in values:
            if not (value == '' and question.get('required')):
                sets.append({question['variable']: value})
    return sets


def test_every_playbook_with_a_template_has_one():
    assert {template_parts(path)[0]['playbook'] for path in TEMPLATES} == PLAYBOOKS_WITH_TEMPLATES


@pytest.mark.parametrize('path', TEMPLATES, ids=lambda path: path.stem)
def test_survey_matches_the_argument_specs(path):
    job_template, survey, _extra_vars, playbook = template_parts(path)
    assert playbook.is_file()
    assert job_template['survey_enabled'] is True and survey['spec']
    specs = role_specs(playbook)
    assert specs, '%s runs no role of the collection' % playbook
    assert survey_problems(specs, survey) == []
    variables = [question['variable'] for question in survey['spec']]
    assert len(variables) == len(set(variables)), 'a variable asked twice'


@pytest.mark.parametrize('path', TEMPLATES, ids=lambda path: path.stem)
def test_extra_vars_and_every_survey_answer_pass_the_roles_validation(path):
    _job_template, survey, extra_vars, playbook = template_parts(path)
    specs = role_specs(playbook)
    playbook_text = playbook.read_text(encoding='utf-8')
    unknown = [name for name in extra_vars
               if option_of(specs, name) is None and not re.search(r'\b%s\b' % re.escape(name), playbook_text)]
    assert unknown == [], 'extra vars neither role options nor read by %s' % playbook.name
    answers = survey_answers(survey)
    assert answers
    for answer in answers:
        assert validation_errors(specs, dict(extra_vars, **answer)) == [], answer


@pytest.mark.parametrize('bad, expected', [
    ({'variable': 'image_nodes_backnd', 'type': 'text'}, 'not an option'),
    ({'variable': 'image_nodes_timeout', 'type': 'text'}, 'survey type text for an option of type int'),
    ({'variable': 'image_nodes_backend', 'type': 'multiplechoice', 'choices': ['udpcast', 'rsync']}, 'not among'),
    ({'variable': 'image_nodes_backend', 'type': 'text'}, 'free answer'),
    ({'variable': 'image_nodes_power_off_first', 'type': 'multiplechoice', 'choices': ['yes', 'no']}, 'not among'),
    ({'variable': 'image_nodes_disk', 'type': 'multiplechoice', 'choices': ['/dev/sda']}, 'without choices'),
])
def test_the_survey_check_catches(bad, expected):
    """The checks above can fail: one wrong question each."""
    specs = role_specs(REPO / 'playbooks' / 'image_nodes.yml')
    problems = survey_problems(specs, {'spec': [bad]})
    assert any(expected in problem for problem in problems), problems


def test_the_validation_catches_a_wrong_value():
    specs = role_specs(REPO / 'playbooks' / 'image_nodes.yml')
    _job_template, _survey, extra_vars, _playbook = template_parts(AWX / 'image_nodes.yml')
    assert validation_errors(specs, dict(extra_vars, image_nodes_after='halt'))
    assert validation_errors(specs, dict(extra_vars, image_nodes_boot_timeout='soon'))


def node_power_options() -> dict:
    source = (REPO / 'plugins' / 'modules' / 'node_power.py').read_text(encoding='utf-8')
    documentation = re.search(r"^DOCUMENTATION = r'''\n(.*?)^'''", source, re.S | re.M).group(1)
    return yaml.safe_load(documentation)['options']


def test_bmc_credential_type():
    credential = load(CREDENTIAL_TYPE)
    assert credential['kind'] == 'cloud'
    fields = {field['id']: field for field in credential['inputs']['fields']}
    assert set(fields) == {'username', 'password'}
    assert fields['password'].get('secret') is True and not fields['username'].get('secret')
    assert set(credential['inputs']['required']) == set(fields)
    injected = credential['injectors']['env']
    assert set(injected) == {'CNB_BMC_USERNAME', 'CNB_BMC_PASSWORD'}
    for value in injected.values():
        assert set(re.findall(r'\{\{\s*(\w+)\s*\}\}', value)) <= set(fields), value
    assert 'extra_vars' not in credential['injectors'], 'the password would be recorded with the job'
    # The job template reads each injected variable into the node_power option of the same input.
    _job_template, _survey, extra_vars, _playbook = template_parts(AWX / 'image_nodes.yml')
    power = extra_vars['image_nodes_power']
    options = node_power_options()
    for field_id in fields:
        assert field_id in options, 'node_power has no option %s' % field_id
        (read,) = ENV_LOOKUP.findall(power[field_id])
        assert injected[read] == '{{ %s }}' % field_id
