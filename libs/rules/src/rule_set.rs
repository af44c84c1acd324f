//! [`RuleSet`]: a payer's rule set, parsed, validated and compiled once,
//! then evaluated per claim line.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use serde_json::{Map, Value};
use time::Date;
use zen_expression::expression::{Standard, Unary};
use zen_expression::vm::VM;
use zen_expression::{Expression, Scope, Variable};

use crate::action::{Action, OUTPUT_FIELDS, OutputField, OutputValue, Outputs, build_action};
use crate::cell::{CellTraits, Visible, compile_standard, compile_unary, describe, literal_strings};
use crate::document::{self, BODY_BYTES_MAX, COLUMNS_MAX, NODES_MAX, RULES_MAX};
use crate::error::{CellPath, EvaluationError, Problems, RuleSetErrors};
use crate::facts::{FACT_ROOTS, Facts};
use crate::policy::Policy;

/// The field whose input column can index a table's rows.
const INDEX_FIELD: &str = "line.procedure_code";

/// A payer's rule set, ready to evaluate: its policy switches and its
/// decision graph with every cell compiled. Built only by [`RuleSet::parse`],
/// so a `RuleSet` is always whole and valid.
#[derive(Debug, Clone)]
pub struct RuleSet {
    name: String,
    content_hash: String,
    canonical: Vec<u8>,
    policy: Policy,
    /// In evaluation order: topological, ties broken by document order.
    nodes: Vec<Node>,
    uses_dates: bool,
}

/// One rule that fired, in evaluation order (the graph's topological order,
/// then rule order within a table).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fired {
    pub table_node_id: String,
    pub table_name: String,
    /// The rule's `_id` (empty when the document gives none).
    pub rule_id: String,
    /// The rule's 0-based index in its table.
    pub rule_index: usize,
    pub action: Action,
}

#[derive(Debug, Clone)]
struct Node {
    id: String,
    name: String,
    kind: NodeKind,
    /// Edges into this node: the source's position in `RuleSet::nodes`, and
    /// for a switch source the statement the edge leaves from.
    incoming: Vec<(usize, Option<usize>)>,
}

#[derive(Debug, Clone)]
enum NodeKind {
    Input,
    Output,
    Expressions(Vec<NamedExpression>),
    Switch(Switch),
    Table(Table),
}

#[derive(Debug, Clone)]
struct NamedExpression {
    id: String,
    key: String,
    source: String,
    expression: Expression<Standard>,
}

#[derive(Debug, Clone)]
struct Switch {
    collect: bool,
    statements: Vec<Statement>,
}

#[derive(Debug, Clone)]
struct Statement {
    id: String,
    source: String,
    /// `None` for an empty condition, which always holds.
    condition: Option<Expression<Standard>>,
    is_default: bool,
}

#[derive(Debug, Clone)]
struct Table {
    collect: bool,
    inputs: Vec<InputColumn>,
    outputs: Vec<(String, String, OutputField)>,
    rules: Vec<Rule>,
    index: Option<CodeIndex>,
}

#[derive(Debug, Clone)]
struct InputColumn {
    id: String,
    name: String,
    /// The field `$` stands for in this column's cells; `None` when the
    /// cells are whole boolean expressions.
    field: Option<Expression<Standard>>,
}

#[derive(Debug, Clone)]
struct Rule {
    id: String,
    /// One per input column; `None` for an empty cell (always holds).
    tests: Vec<Option<Test>>,
    /// One per output column; `None` for an empty cell.
    outputs: Vec<Option<(String, Expression<Standard>)>>,
    /// The action, when every output cell is a constant (checked at upload).
    fixed_action: Option<Action>,
}

#[derive(Debug, Clone)]
struct Test {
    source: String,
    kind: TestKind,
}

#[derive(Debug, Clone)]
enum TestKind {
    Unary(Expression<Unary>),
    Boolean(Expression<Standard>),
}

/// The rows of a table by procedure code: the key column's cells are all
/// literal codes or empty, so only these rows can match a line.
#[derive(Debug, Clone)]
struct CodeIndex {
    column: usize,
    by_code: HashMap<String, Vec<u32>>,
    /// Rows whose key cell is empty (they match any code).
    any_code: Vec<u32>,
}

impl RuleSet {
    /// Parses, validates and compiles the body of
    /// `PUT /v1/payers/{payer_id}/rule-sets/{name}`. Every problem is
    /// reported, each with its path; nothing half-built is returned.
    pub fn parse(name: &str, body: &[u8]) -> Result<RuleSet, RuleSetErrors> {
        let mut problems = Problems::default();
        document::check_name(name, &mut problems);
        if body.len() > BODY_BYTES_MAX {
            problems.push("body", format!("the body is {} bytes; at most {BODY_BYTES_MAX}", body.len()));
            return Err(problems.into_errors());
        }
        let mut value: Value = match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(error) => {
                problems.push("body", format!("not JSON: {error}"));
                return Err(problems.into_errors());
            }
        };
        let Some(top) = value.as_object() else {
            problems.push("body", "expected a JSON object with `nodes`, `edges` and `policy`");
            return Err(problems.into_errors());
        };
        for key in top.keys() {
            if !["contentType", "nodes", "edges", "settings", "policy"].contains(&key.as_str()) {
                problems.push(key.clone(), "unknown member (expected contentType, nodes, edges, settings, policy)");
            }
        }
        document::normalize_numbers(&mut value, &mut problems);
        let policy = Policy::parse(value.get("policy"), &mut problems);
        let graph = compile_graph(&value, &mut problems);
        let hashed = document::content_hash(&value);
        if let Err(error) = &hashed
            && problems.is_empty()
        {
            problems.push("body", format!("cannot be written as canonical JSON: {error}"));
        }
        match (policy, graph, hashed) {
            (Some(policy), Some((nodes, uses_dates)), Ok((canonical, content_hash))) if problems.is_empty() => {
                Ok(RuleSet { name: name.to_owned(), content_hash, canonical, policy, nodes, uses_dates })
            }
            _ => Err(problems.into_errors()),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// SHA3-256 of the body's canonical JSON, lower-case hex: the rule set's
    /// identity, recorded with every decision it makes.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// The canonical JSON the hash covers: what to store and publish.
    /// Parsing it again gives the same rule set and the same hash.
    pub fn canonical_bytes(&self) -> &[u8] {
        &self.canonical
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn effective_from(&self) -> Date {
        self.policy.effective_from
    }

    pub fn effective_to(&self) -> Option<Date> {
        self.policy.effective_to
    }

    /// The number of decision tables and of rules in them.
    pub fn table_and_rule_counts(&self) -> (usize, usize) {
        self.nodes.iter().fold((0, 0), |(tables, rules), node| match &node.kind {
            NodeKind::Table(table) => (tables + 1, rules + table.rules.len()),
            _ => (tables, rules),
        })
    }

    /// Whether the decision table `node_id` has a code index.
    pub fn is_indexed(&self, node_id: &str) -> bool {
        self.nodes.iter().any(|node| node.id == node_id && matches!(&node.kind, NodeKind::Table(table) if table.index.is_some()))
    }

    /// An estimate of the heap the compiled graph holds, in bytes (bytecode,
    /// sources, ids and indexes; allocator overhead not counted).
    pub fn compiled_bytes_estimate(&self) -> usize {
        let opcode = std::mem::size_of::<zen_expression::compiler::Opcode>();
        let standard = |expression: &Expression<Standard>| expression.bytecode().len() * opcode;
        let mut bytes = self.canonical.capacity();
        for node in &self.nodes {
            bytes += node.id.len() + node.name.len() + node.incoming.len() * 24;
            match &node.kind {
                NodeKind::Input | NodeKind::Output => {}
                NodeKind::Expressions(expressions) => {
                    for expression in expressions {
                        bytes += expression.id.len() + expression.key.len() + expression.source.len() + standard(&expression.expression);
                    }
                }
                NodeKind::Switch(switch) => {
                    for statement in &switch.statements {
                        bytes += statement.id.len() + statement.source.len() + statement.condition.as_ref().map_or(0, standard);
                    }
                }
                NodeKind::Table(table) => {
                    bytes += std::mem::size_of::<Rule>() * table.rules.len();
                    for rule in &table.rules {
                        bytes += rule.id.len();
                        for test in rule.tests.iter().flatten() {
                            bytes += std::mem::size_of::<Test>()
                                + test.source.len()
                                + match &test.kind {
                                    TestKind::Unary(expression) => expression.bytecode().len() * opcode,
                                    TestKind::Boolean(expression) => standard(expression),
                                };
                        }
                        for (source, expression) in rule.outputs.iter().flatten() {
                            bytes += source.len() + standard(expression);
                        }
                    }
                    if let Some(index) = &table.index {
                        bytes += index.any_code.len() * 4;
                        bytes += index.by_code.iter().map(|(code, rows)| code.len() + 24 + rows.len() * 4 + 32).sum::<usize>();
                    }
                }
            }
        }
        bytes
    }

    /// Runs the decision graph on one line's facts: which rules fired, in
    /// the graph's topological order and then rule order. A cell that fails
    /// is an error naming it, never a skipped rule.
    pub fn evaluate(&self, facts: &Facts) -> Result<Vec<Fired>, EvaluationError> {
        self.evaluate_with(facts, true)
    }

    pub(crate) fn evaluate_with(&self, facts: &Facts, use_index: bool) -> Result<Vec<Fired>, EvaluationError> {
        if self.uses_dates && !crate::zone::is_utc() {
            return Err(EvaluationError::TimeZoneNotUtc);
        }
        let context = facts.to_variable();
        let code = facts.line.procedure_code.as_str();
        let mut vm = VM::new();
        let mut fired = Vec::new();
        // Per node: whether it ran, and for a switch which statements held.
        let mut active = vec![false; self.nodes.len()];
        let mut taken: Vec<Vec<bool>> = vec![Vec::new(); self.nodes.len()];
        for (position, node) in self.nodes.iter().enumerate() {
            let runs = match node.kind {
                NodeKind::Input => true,
                _ => node.incoming.iter().any(|(source, handle)| active[*source] && handle.is_none_or(|statement| taken[*source][statement])),
            };
            if !runs {
                continue;
            }
            active[position] = true;
            match &node.kind {
                NodeKind::Input | NodeKind::Output => {}
                NodeKind::Expressions(expressions) => {
                    for (index, expression) in expressions.iter().enumerate() {
                        let at = || CellPath {
                            node_id: node.id.clone(),
                            node_name: node.name.clone(),
                            index,
                            item_id: expression.id.clone(),
                            column: expression.key.clone(),
                        };
                        let value = expression
                            .expression
                            .evaluate_with_scope(&Scope::new(context.clone()), &mut vm)
                            .map_err(|error| EvaluationError::Cell { at: at().into(), source_text: expression.source.clone(), message: error.to_string() })?;
                        let _ = context.dot_insert(&expression.key, value);
                    }
                }
                NodeKind::Switch(switch) => {
                    let mut holds = vec![false; switch.statements.len()];
                    let mut any = false;
                    for (index, statement) in switch.statements.iter().enumerate() {
                        if statement.is_default || (any && !switch.collect) {
                            continue;
                        }
                        let at = || CellPath {
                            node_id: node.id.clone(),
                            node_name: node.name.clone(),
                            index,
                            item_id: statement.id.clone(),
                            column: "condition".to_owned(),
                        };
                        let value =
                            match &statement.condition {
                                None => true,
                                Some(condition) => {
                                    let result = condition.evaluate_with_scope(&Scope::new(context.clone()), &mut vm).map_err(|error| {
                                        EvaluationError::Cell { at: at().into(), source_text: statement.source.clone(), message: error.to_string() }
                                    })?;
                                    boolean(&result, at, &statement.source)?
                                }
                            };
                        holds[index] = value;
                        any |= value;
                    }
                    if !any && let Some(default) = switch.statements.iter().position(|statement| statement.is_default) {
                        holds[default] = true;
                    }
                    taken[position] = holds;
                }
                NodeKind::Table(table) => evaluate_table(node, table, &context, code, use_index, &mut vm, &mut fired)?,
            }
        }
        Ok(fired)
    }
}

fn boolean(value: &Variable, at: impl Fn() -> CellPath, source: &str) -> Result<bool, EvaluationError> {
    value.as_bool().ok_or_else(|| EvaluationError::BadValue {
        at: at().into(),
        source_text: source.to_owned(),
        found: describe(value),
        expected: "a test must give true or false".to_owned(),
    })
}

fn evaluate_table(
    node: &Node,
    table: &Table,
    context: &Variable,
    code: &str,
    use_index: bool,
    vm: &mut VM,
    fired: &mut Vec<Fired>,
) -> Result<(), EvaluationError> {
    let at = |rule_index: usize, rule: &Rule, column: String| CellPath {
        node_id: node.id.clone(),
        node_name: node.name.clone(),
        index: rule_index,
        item_id: rule.id.clone(),
        column,
    };
    // `$` of each input column, evaluated once per line, not once per row.
    let mut scopes: Vec<Scope> = Vec::with_capacity(table.inputs.len());
    for (column_index, column) in table.inputs.iter().enumerate() {
        let mut scope = Scope::new(context.clone());
        if let Some(field) = &column.field {
            let value = field.evaluate_with_scope(&scope, vm).map_err(|error| EvaluationError::Cell {
                at: CellPath {
                    node_id: node.id.clone(),
                    node_name: node.name.clone(),
                    index: column_index,
                    item_id: column.id.clone(),
                    column: format!("field of {} ({})", column.id, column.name),
                }
                .into(),
                source_text: String::new(),
                message: error.to_string(),
            })?;
            scope.set_local(Variable::dollar_key(), value);
        }
        scopes.push(scope);
    }
    let key_column = table.index.as_ref().map(|index| index.column);
    let candidates: Box<dyn Iterator<Item = usize>> = match (&table.index, use_index) {
        (Some(index), true) => Box::new(merge_rows(index.by_code.get(code).map_or(&[][..], Vec::as_slice), &index.any_code)),
        _ => Box::new(0..table.rules.len()),
    };
    for rule_index in candidates {
        let rule = &table.rules[rule_index];
        // The key column is tested first (it cannot fail), then the others in order.
        let order = key_column.into_iter().chain((0..table.inputs.len()).filter(|column| Some(*column) != key_column));
        let mut matches = true;
        for column_index in order {
            if use_index && Some(column_index) == key_column {
                continue; // the index already chose rows whose key cell holds
            }
            let Some(test) = &rule.tests[column_index] else { continue };
            let column = &table.inputs[column_index];
            let cell = || at(rule_index, rule, format!("{} ({})", column.id, column.name));
            let evaluated = match &test.kind {
                TestKind::Unary(expression) => expression.evaluate_with_scope(&scopes[column_index], vm),
                TestKind::Boolean(expression) => expression
                    .evaluate_with_scope(&scopes[column_index], vm)
                    .and_then(|value| value.as_bool().ok_or(zen_expression::IsolateError::ValueCastError)),
            };
            let holds = evaluated.map_err(|error| match error {
                zen_expression::IsolateError::ValueCastError => EvaluationError::BadValue {
                    at: cell().into(),
                    source_text: test.source.clone(),
                    found: "a value that is not a boolean".to_owned(),
                    expected: "a test must give true or false".to_owned(),
                },
                other => EvaluationError::Cell { at: cell().into(), source_text: test.source.clone(), message: other.to_string() },
            })?;
            if !holds {
                matches = false;
                break;
            }
        }
        if !matches {
            continue;
        }
        let action = match &rule.fixed_action {
            Some(action) => action.clone(),
            None => {
                let mut outputs = Outputs::default();
                for ((column_id, column_name, field), cell) in table.outputs.iter().zip(&rule.outputs) {
                    let Some((source, expression)) = cell else { continue };
                    let value = expression.evaluate_with_scope(&Scope::new(context.clone()), vm).map_err(|error| EvaluationError::Cell {
                        at: at(rule_index, rule, format!("{column_id} ({column_name})")).into(),
                        source_text: source.clone(),
                        message: error.to_string(),
                    })?;
                    set_output(&mut outputs, *field, output_value(&value));
                }
                build_action(&outputs).map_err(|(field, reason)| {
                    let column = table
                        .outputs
                        .iter()
                        .find(|(_, _, output)| *output == field)
                        .map_or_else(|| "action".to_owned(), |(id, name, _)| format!("{id} ({name})"));
                    EvaluationError::BadAction { at: at(rule_index, rule, column).into(), reason }
                })?
            }
        };
        fired.push(Fired { table_node_id: node.id.clone(), table_name: node.name.clone(), rule_id: rule.id.clone(), rule_index, action });
        if !table.collect {
            break;
        }
    }
    Ok(())
}

/// The union of two ascending row lists, ascending.
fn merge_rows<'a>(left: &'a [u32], right: &'a [u32]) -> impl Iterator<Item = usize> + 'a {
    let (mut left_at, mut right_at) = (0, 0);
    std::iter::from_fn(move || {
        let next = match (left.get(left_at), right.get(right_at)) {
            (Some(l), Some(r)) if l <= r => {
                left_at += 1;
                if l == r {
                    right_at += 1;
                }
                *l
            }
            (Some(_), Some(r)) | (None, Some(r)) => {
                right_at += 1;
                *r
            }
            (Some(l), None) => {
                left_at += 1;
                *l
            }
            (None, None) => return None,
        };
        Some(next as usize)
    })
}

fn set_output(outputs: &mut Outputs, field: OutputField, value: OutputValue) {
    let slot = match field {
        OutputField::Action => &mut outputs.action,
        OutputField::Carc => &mut outputs.carc,
        OutputField::Rarc => &mut outputs.rarc,
        OutputField::Reason => &mut outputs.reason,
        OutputField::Percent => &mut outputs.percent,
        OutputField::Amount => &mut outputs.amount,
    };
    *slot = Some(value);
}

fn output_value(value: &Variable) -> OutputValue {
    match value {
        Variable::Null => OutputValue::Null,
        Variable::String(text) => OutputValue::Text(text.to_string()),
        Variable::Number(number) => OutputValue::Number(*number),
        Variable::Array(items) => {
            let items = items.borrow();
            let texts: Option<Vec<String>> = items.iter().map(|item| item.as_str().map(str::to_owned)).collect();
            texts.map_or_else(|| OutputValue::Other("a list that is not all strings".to_owned()), OutputValue::TextList)
        }
        other => OutputValue::Other(describe(other)),
    }
}

/// Reads, checks and compiles `nodes` and `edges`. Returns the nodes in
/// evaluation order and whether any cell uses dates.
fn compile_graph(body: &Value, problems: &mut Problems) -> Option<(Vec<Node>, bool)> {
    let before = problems.len();
    let Some(raw_nodes) = body.get("nodes").and_then(Value::as_array) else {
        problems.push("nodes", "missing, or not a list of nodes");
        return None;
    };
    let raw_edges = match body.get("edges") {
        Some(Value::Array(edges)) => edges.as_slice(),
        _ => {
            problems.push("edges", "missing, or not a list of edges");
            &[]
        }
    };
    if raw_nodes.len() > NODES_MAX {
        problems.push("nodes", format!("{} nodes; at most {NODES_MAX}", raw_nodes.len()));
        return None;
    }

    // Ids, names and types first: edges and scopes need them.
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut kinds: Vec<Option<&str>> = Vec::with_capacity(raw_nodes.len());
    for (index, raw) in raw_nodes.iter().enumerate() {
        let path = format!("nodes[{index}]");
        let id = raw.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
        match id {
            None => problems.push(format!("{path}.id"), "missing, or not a non-empty string"),
            Some(id) => {
                if ids.insert(id, index).is_some() {
                    problems.push(format!("{path}.id"), format!("`{id}` is the id of another node too"));
                }
            }
        }
        match raw.get("name") {
            None | Some(Value::String(_)) => {}
            Some(_) => problems.push(format!("{path}.name"), "expected a string"),
        }
        let kind = raw.get("type").and_then(Value::as_str);
        match kind {
            Some("inputNode" | "outputNode" | "decisionTableNode" | "expressionNode" | "switchNode") => {}
            Some("functionNode") => problems.push(
                format!("{path}.type"),
                "function (JavaScript) nodes are refused: they need a JavaScript runtime and are not deterministic; use expression nodes and decision tables",
            ),
            Some("decisionNode" | "customNode") => {
                problems.push(format!("{path}.type"), format!("`{}` nodes are not supported; put the logic in this rule set", kind.unwrap_or_default()))
            }
            Some(other) => problems.push(
                format!("{path}.type"),
                format!("unknown node type `{other}` (expected inputNode, outputNode, decisionTableNode, expressionNode or switchNode)"),
            ),
            None => problems.push(format!("{path}.type"), "missing, or not a string"),
        }
        kinds.push(kind);
    }
    let inputs: Vec<usize> = (0..raw_nodes.len()).filter(|index| kinds[*index] == Some("inputNode")).collect();
    if inputs.len() != 1 {
        problems.push("nodes", format!("a rule set has exactly one inputNode; this one has {}", inputs.len()));
    }

    // Edges: (source, target, handle) by node index.
    let mut edges: Vec<(usize, usize, Option<&str>, usize)> = Vec::with_capacity(raw_edges.len());
    let mut edge_ids: HashMap<&str, usize> = HashMap::new();
    for (index, raw) in raw_edges.iter().enumerate() {
        let path = format!("edges[{index}]");
        if let Some(id) = raw.get("id").and_then(Value::as_str)
            && edge_ids.insert(id, index).is_some()
        {
            problems.push(format!("{path}.id"), format!("`{id}` is the id of another edge too"));
        }
        let end = |member: &str, problems: &mut Problems| -> Option<usize> {
            match raw.get(member).and_then(Value::as_str) {
                None => {
                    problems.push(format!("{path}.{member}"), "missing, or not a string");
                    None
                }
                Some(id) => match ids.get(id) {
                    Some(node) => Some(*node),
                    None => {
                        problems.push(format!("{path}.{member}"), format!("`{id}` is not the id of any node"));
                        None
                    }
                },
            }
        };
        let source = end("sourceId", problems);
        let target = end("targetId", problems);
        let handle = raw.get("sourceHandle").and_then(Value::as_str).filter(|handle| !handle.is_empty());
        if let (Some(source), Some(target)) = (source, target) {
            if kinds[target] == Some("inputNode") {
                problems.push(format!("{path}.targetId"), "an edge cannot enter the input node");
            }
            if kinds[source] == Some("outputNode") {
                problems.push(format!("{path}.sourceId"), "an edge cannot leave an output node");
            }
            if kinds[source] == Some("switchNode") && handle.is_none() {
                problems.push(format!("{path}.sourceHandle"), "an edge from a switch node must name the statement it leaves from");
            }
            edges.push((source, target, handle, index));
        }
    }

    // Evaluation order: Kahn's algorithm, the lowest document index first.
    let count = raw_nodes.len();
    let mut in_degree = vec![0usize; count];
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (source, target, _, _) in &edges {
        in_degree[*target] += 1;
        successors[*source].push(*target);
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..count).filter(|index| in_degree[*index] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(count);
    while let Some(Reverse(index)) = ready.pop() {
        order.push(index);
        for next in &successors[index] {
            in_degree[*next] -= 1;
            if in_degree[*next] == 0 {
                ready.push(Reverse(*next));
            }
        }
    }
    if order.len() != count {
        let in_cycle: Vec<String> = (0..count).filter(|index| in_degree[*index] > 0).map(|index| node_label(raw_nodes, index)).collect();
        problems.push("edges", format!("the graph has a cycle through {}", in_cycle.join(", ")));
        return None;
    }

    // Reachability from the input node, and what each node can read.
    let mut reachable = vec![false; count];
    if let [input] = inputs.as_slice() {
        reachable[*input] = true;
    }
    let mut visible: Vec<Visible> = vec![Visible::default(); count];
    let mut predecessors: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (source, target, _, _) in &edges {
        predecessors[*target].push(*source);
    }
    for &index in &order {
        let mut roots: Vec<String> = Vec::new();
        for &parent in &predecessors[index] {
            reachable[index] |= reachable[parent];
            roots.extend(visible[parent].derived_roots.iter().cloned());
            if kinds[parent] == Some("expressionNode") {
                roots.extend(expression_keys(&raw_nodes[parent]).into_iter().map(|key| key.split('.').next().unwrap_or_default().to_owned()));
            }
        }
        roots.sort();
        roots.dedup();
        visible[index].derived_roots = roots;
    }
    for index in 0..count {
        if !reachable[index] && matches!(kinds[index], Some("decisionTableNode" | "expressionNode" | "switchNode")) {
            problems.push(format!("nodes[{index}]"), format!("{} is not reachable from the input node, so it would never run", node_label(raw_nodes, index)));
        }
    }

    // Compile each node.
    let mut position_of = vec![0usize; count];
    for (position, &index) in order.iter().enumerate() {
        position_of[index] = position;
    }
    let mut uses_dates = false;
    let mut nodes = Vec::with_capacity(count);
    for &index in &order {
        let raw = &raw_nodes[index];
        let path = format!("nodes[{index}]");
        let id = raw.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let name = raw.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
        let content = raw.get("content");
        let kind = match kinds[index] {
            Some("inputNode") => Some(NodeKind::Input),
            Some("outputNode") => Some(NodeKind::Output),
            Some("expressionNode") => {
                compile_expressions(content, &format!("{path}.content"), &visible[index], problems, &mut uses_dates).map(NodeKind::Expressions)
            }
            Some("switchNode") => compile_switch(content, &format!("{path}.content"), &visible[index], problems, &mut uses_dates).map(NodeKind::Switch),
            Some("decisionTableNode") => compile_table(content, &format!("{path}.content"), &visible[index], problems, &mut uses_dates).map(NodeKind::Table),
            _ => None,
        };
        let mut incoming = Vec::new();
        for (source, target, handle, edge_index) in &edges {
            if *target != index {
                continue;
            }
            let statement = match (&handle, raw_nodes[*source].get("content").and_then(|content| content.get("statements")).and_then(Value::as_array)) {
                (Some(handle), Some(statements)) if kinds[*source] == Some("switchNode") => {
                    let found = statements.iter().position(|statement| statement.get("id").and_then(Value::as_str) == Some(*handle));
                    if found.is_none() {
                        problems.push(format!("edges[{edge_index}].sourceHandle"), format!("`{handle}` is not a statement of the switch node"));
                    }
                    found
                }
                _ => None,
            };
            incoming.push((position_of[*source], statement));
        }
        if let Some(kind) = kind {
            nodes.push(Node { id, name, kind, incoming });
        }
    }
    if problems.len() != before || nodes.len() != count {
        return None;
    }
    Some((nodes, uses_dates))
}

fn node_label(raw_nodes: &[Value], index: usize) -> String {
    let id = raw_nodes[index].get("id").and_then(Value::as_str).unwrap_or("?");
    match raw_nodes[index].get("name").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => format!("node `{id}` ({name})"),
        _ => format!("node `{id}`"),
    }
}

fn expression_keys(raw: &Value) -> Vec<String> {
    raw.get("content")
        .and_then(|content| content.get("expressions"))
        .and_then(Value::as_array)
        .map(|expressions| expressions.iter().filter_map(|expression| expression.get("key").and_then(Value::as_str).map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Refuses the editor's transform attributes that change what a node sees
/// (`inputField`, `outputPath`, `executionMode: loop`); `passThrough` is
/// accepted and changes nothing, since every node sees the whole fact model.
fn check_transform(content: &Map<String, Value>, path: &str, problems: &mut Problems) {
    for member in ["inputField", "outputPath"] {
        match content.get(member) {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) if text.trim().is_empty() => {}
            Some(_) => problems.push(format!("{path}.{member}"), format!("`{member}` is not supported: every node reads the whole fact model")),
        }
    }
    match content.get("executionMode") {
        None | Some(Value::Null) => {}
        Some(Value::String(mode)) if mode == "single" => {}
        Some(_) => problems.push(format!("{path}.executionMode"), "only `single` is supported: a rule set decides one line at a time"),
    }
}

fn compile_expressions(content: Option<&Value>, path: &str, visible: &Visible, problems: &mut Problems, uses_dates: &mut bool) -> Option<Vec<NamedExpression>> {
    let Some(content) = content.and_then(Value::as_object) else {
        problems.push(path, "an expression node needs `content` with `expressions`");
        return None;
    };
    check_transform(content, path, problems);
    let Some(raw) = content.get("expressions").and_then(Value::as_array) else {
        problems.push(format!("{path}.expressions"), "missing, or not a list");
        return None;
    };
    let mut visible = visible.clone();
    let mut compiled = Vec::with_capacity(raw.len());
    let mut ok = true;
    for (index, expression) in raw.iter().enumerate() {
        let at = format!("{path}.expressions[{index}]");
        let id = expression.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let Some(key) = expression.get("key").and_then(Value::as_str) else {
            problems.push(format!("{at}.key"), "missing, or not a string");
            ok = false;
            continue;
        };
        if !is_key(key) {
            problems.push(format!("{at}.key"), format!("`{key}` is not a key (identifiers joined by dots)"));
            ok = false;
            continue;
        }
        let root = key.split('.').next().unwrap_or_default();
        if FACT_ROOTS.contains(&root) {
            problems.push(format!("{at}.key"), format!("`{key}` would overwrite the fact model; choose a key outside {}", FACT_ROOTS.join(", ")));
            ok = false;
            continue;
        }
        let Some(source) = expression.get("value").and_then(Value::as_str) else {
            problems.push(format!("{at}.value"), "missing, or not a string");
            ok = false;
            continue;
        };
        if source.trim().is_empty() {
            problems.push(format!("{at}.value"), "an expression cannot be empty");
            ok = false;
            continue;
        }
        match compile_standard(source, &visible) {
            Ok((expression, traits)) => {
                *uses_dates |= traits.uses_dates;
                compiled.push(NamedExpression { id, key: key.to_owned(), source: source.to_owned(), expression });
            }
            Err(reason) => {
                problems.push(format!("{at}.value"), reason);
                ok = false;
            }
        }
        // Later expressions of the same node see this key.
        visible.derived_roots.push(root.to_owned());
    }
    ok.then_some(compiled)
}

fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.split('.').all(|segment| {
            segment.chars().next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
                && segment.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn hit_policy(content: &Map<String, Value>, path: &str, default_first: bool, problems: &mut Problems) -> Option<bool> {
    match content.get("hitPolicy") {
        None | Some(Value::Null) if default_first => Some(false),
        Some(Value::String(policy)) if policy == "first" => Some(false),
        Some(Value::String(policy)) if policy == "collect" => Some(true),
        _ => {
            problems.push(format!("{path}.hitPolicy"), "expected \"first\" or \"collect\"");
            None
        }
    }
}

fn compile_switch(content: Option<&Value>, path: &str, visible: &Visible, problems: &mut Problems, uses_dates: &mut bool) -> Option<Switch> {
    let Some(content) = content.and_then(Value::as_object) else {
        problems.push(path, "a switch node needs `content` with `statements`");
        return None;
    };
    let collect = hit_policy(content, path, true, problems);
    let Some(raw) = content.get("statements").and_then(Value::as_array) else {
        problems.push(format!("{path}.statements"), "missing, or not a list");
        return None;
    };
    let mut statements = Vec::with_capacity(raw.len());
    let mut ok = true;
    let mut defaults = 0;
    for (index, statement) in raw.iter().enumerate() {
        let at = format!("{path}.statements[{index}]");
        let Some(id) = statement.get("id").and_then(Value::as_str).filter(|id| !id.is_empty()) else {
            problems.push(format!("{at}.id"), "missing, or not a non-empty string");
            ok = false;
            continue;
        };
        let is_default = statement.get("isDefault").and_then(Value::as_bool).unwrap_or(false);
        defaults += usize::from(is_default);
        let source = statement.get("condition").and_then(Value::as_str).unwrap_or_default();
        let condition = if source.trim().is_empty() || is_default {
            None
        } else {
            match compile_standard(source, visible) {
                Ok((expression, traits)) => {
                    *uses_dates |= traits.uses_dates;
                    Some(expression)
                }
                Err(reason) => {
                    problems.push(format!("{at}.condition"), reason);
                    ok = false;
                    None
                }
            }
        };
        statements.push(Statement { id: id.to_owned(), source: source.to_owned(), condition, is_default });
    }
    if defaults > 1 {
        problems.push(format!("{path}.statements"), "at most one statement can be the default");
        ok = false;
    }
    Some(Switch { collect: collect?, statements }).filter(|_| ok)
}

fn compile_table(content: Option<&Value>, path: &str, visible: &Visible, problems: &mut Problems, uses_dates: &mut bool) -> Option<Table> {
    let Some(content) = content.and_then(Value::as_object) else {
        problems.push(path, "a decision table needs `content` with `hitPolicy`, `inputs`, `outputs` and `rules`");
        return None;
    };
    let before = problems.len();
    check_transform(content, path, problems);
    let collect = hit_policy(content, path, false, problems);

    // Columns.
    let mut column_ids: BTreeMap<String, ()> = BTreeMap::new();
    let mut inputs = Vec::new();
    let mut input_fields: Vec<Option<String>> = Vec::new();
    match content.get("inputs").and_then(Value::as_array) {
        None => problems.push(format!("{path}.inputs"), "missing, or not a list"),
        Some(raw) => {
            for (index, column) in raw.iter().enumerate() {
                let at = format!("{path}.inputs[{index}]");
                let Some(id) = column.get("id").and_then(Value::as_str).filter(|id| !id.is_empty()) else {
                    problems.push(format!("{at}.id"), "missing, or not a non-empty string");
                    continue;
                };
                if column_ids.insert(id.to_owned(), ()).is_some() || id.starts_with('_') {
                    problems.push(format!("{at}.id"), format!("`{id}` is the id of another column too, or starts with `_`"));
                }
                let name = column.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
                let field_source = column.get("field").and_then(Value::as_str).map(str::trim).filter(|field| !field.is_empty());
                let field = match field_source {
                    None => None,
                    Some(source) => match compile_standard(source, visible) {
                        Ok((expression, traits)) => {
                            *uses_dates |= traits.uses_dates;
                            Some(expression)
                        }
                        Err(reason) => {
                            problems.push(format!("{at}.field"), reason);
                            None
                        }
                    },
                };
                input_fields.push(field_source.map(str::to_owned));
                inputs.push(InputColumn { id: id.to_owned(), name, field });
            }
        }
    }
    let mut outputs = Vec::new();
    match content.get("outputs").and_then(Value::as_array) {
        None => problems.push(format!("{path}.outputs"), "missing, or not a list"),
        Some(raw) => {
            for (index, column) in raw.iter().enumerate() {
                let at = format!("{path}.outputs[{index}]");
                let Some(id) = column.get("id").and_then(Value::as_str).filter(|id| !id.is_empty()) else {
                    problems.push(format!("{at}.id"), "missing, or not a non-empty string");
                    continue;
                };
                if column_ids.insert(id.to_owned(), ()).is_some() || id.starts_with('_') {
                    problems.push(format!("{at}.id"), format!("`{id}` is the id of another column too, or starts with `_`"));
                }
                let name = column.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
                let field = column.get("field").and_then(Value::as_str).unwrap_or_default();
                match OutputField::parse(field) {
                    Some(parsed) => {
                        if outputs.iter().any(|(_, _, existing)| *existing == parsed) {
                            problems.push(format!("{at}.field"), format!("`{field}` is the field of another output column too"));
                        }
                        outputs.push((id.to_owned(), name, parsed));
                    }
                    None => problems.push(format!("{at}.field"), format!("`{field}` is not an action field; outputs are {}", OUTPUT_FIELDS.join(", "))),
                }
            }
            if !outputs.iter().any(|(_, _, field)| *field == OutputField::Action) {
                problems.push(format!("{path}.outputs"), "a decision table needs an output column with the field `action`");
            }
        }
    }
    if inputs.len() + outputs.len() > COLUMNS_MAX {
        problems.push(path, format!("{} columns; at most {COLUMNS_MAX}", inputs.len() + outputs.len()));
    }

    // Rules.
    let Some(raw_rules) = content.get("rules").and_then(Value::as_array) else {
        problems.push(format!("{path}.rules"), "missing, or not a list");
        return None;
    };
    if raw_rules.len() > RULES_MAX {
        problems.push(format!("{path}.rules"), format!("{} rules; at most {RULES_MAX}", raw_rules.len()));
        return None;
    }
    let mut rules = Vec::with_capacity(raw_rules.len());
    let mut literal_cells: Vec<Option<Option<Vec<String>>>> = vec![Some(None); inputs.len()];
    for (rule_index, raw) in raw_rules.iter().enumerate() {
        let at = format!("{path}.rules[{rule_index}]");
        let Some(cells) = raw.as_object() else {
            problems.push(at, "a rule is an object of cells");
            continue;
        };
        for key in cells.keys() {
            if !key.starts_with('_') && !column_ids.contains_key(key) {
                problems.push(format!("{at}.{key}"), format!("`{key}` is not a column of this table"));
            }
        }
        let cell_text = |column: &str, problems: &mut Problems| -> Option<String> {
            match cells.get(column) {
                None | Some(Value::Null) => None,
                Some(Value::String(text)) if text.trim().is_empty() => None,
                Some(Value::String(text)) => Some(text.clone()),
                Some(_) => {
                    problems.push(format!("{at}.{column}"), "a cell is a string");
                    None
                }
            }
        };
        let rule_id = cells.get("_id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let mut tests = Vec::with_capacity(inputs.len());
        for (column_index, column) in inputs.iter().enumerate() {
            let Some(source) = cell_text(&column.id, problems) else {
                tests.push(None);
                continue;
            };
            let compiled = if input_fields[column_index].is_some() {
                compile_unary(&source, visible).map(|(expression, traits)| {
                    let literals = literal_strings(expression.bytecode());
                    (TestKind::Unary(expression), traits, literals)
                })
            } else {
                compile_standard(&source, visible).map(|(expression, traits)| (TestKind::Boolean(expression), traits, None))
            };
            match compiled {
                Ok((kind, traits, literals)) => {
                    *uses_dates |= traits.uses_dates;
                    match literals {
                        Some(codes) => {
                            if let Some(Some(all)) = &mut literal_cells[column_index] {
                                all.extend(codes);
                            } else if literal_cells[column_index].is_some() {
                                literal_cells[column_index] = Some(Some(codes));
                            }
                        }
                        None => literal_cells[column_index] = None,
                    }
                    tests.push(Some(Test { source, kind }));
                }
                Err(reason) => {
                    problems.push(format!("{at}.{}", column.id), reason);
                    tests.push(None);
                }
            }
        }
        let mut rule_outputs = Vec::with_capacity(outputs.len());
        let mut constants = Outputs::default();
        let mut all_constant = true;
        for (column_id, _, field) in &outputs {
            let Some(source) = cell_text(column_id, problems) else {
                rule_outputs.push(None);
                continue;
            };
            match compile_standard(&source, visible) {
                Ok((expression, CellTraits { uses_dates: dates, constant })) => {
                    *uses_dates |= dates;
                    if constant {
                        match expression.evaluate_with_scope(&Scope::new(Variable::empty_object()), &mut VM::new()) {
                            Ok(value) => set_output(&mut constants, *field, output_value(&value)),
                            Err(error) => problems.push(format!("{at}.{column_id}"), format!("fails to evaluate: {error}")),
                        }
                    } else {
                        all_constant = false;
                    }
                    rule_outputs.push(Some((source, expression)));
                }
                Err(reason) => {
                    problems.push(format!("{at}.{column_id}"), reason);
                    rule_outputs.push(None);
                }
            }
        }
        let fixed_action = if all_constant {
            match build_action(&constants) {
                Ok(action) => Some(action),
                Err((field, reason)) => {
                    let column = outputs.iter().find(|(_, _, output)| *output == field).map_or("_id", |(id, _, _)| id.as_str());
                    problems.push(format!("{at}.{column}"), reason);
                    None
                }
            }
        } else {
            // Check what can be checked now: a constant action name must be known.
            if let Some(OutputValue::Text(name)) | Some(OutputValue::Other(name)) = &constants.action
                && !crate::action::ACTION_NAMES.contains(&name.as_str())
            {
                let column = outputs.iter().find(|(_, _, output)| *output == OutputField::Action).map_or("_id", |(id, _, _)| id.as_str());
                problems.push(format!("{at}.{column}"), format!("`{name}` is not an action; expected one of {}", crate::action::ACTION_NAMES.join(", ")));
            }
            None
        };
        rules.push(Rule { id: rule_id, tests, outputs: rule_outputs, fixed_action });
    }

    // The code index: the first input column on the procedure code whose
    // cells are all literal codes or empty.
    let index = input_fields.iter().enumerate().find_map(|(column, field)| {
        if field.as_deref() != Some(INDEX_FIELD) || literal_cells[column].is_none() {
            return None;
        }
        let mut by_code: HashMap<String, Vec<u32>> = HashMap::new();
        let mut any_code = Vec::new();
        for (row, rule) in rules.iter().enumerate() {
            let row = u32::try_from(row).ok()?;
            match &rule.tests[column] {
                None => any_code.push(row),
                Some(Test { kind: TestKind::Unary(expression), .. }) => {
                    for code in literal_strings(expression.bytecode())? {
                        let rows = by_code.entry(code).or_default();
                        if rows.last() != Some(&row) {
                            rows.push(row);
                        }
                    }
                }
                Some(_) => return None,
            }
        }
        Some(CodeIndex { column, by_code, any_code })
    });

    if problems.len() != before {
        return None;
    }
    Some(Table { collect: collect?, inputs, outputs, rules, index })
}
