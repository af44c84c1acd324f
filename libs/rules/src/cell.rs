//! Compiling one cell: ZEN source to bytecode, once per rule-set version,
//! with the checks that keep evaluation deterministic and every reference
//! pointing at something that exists.

use zen_expression::compiler::{FetchFastTarget, Opcode};
use zen_expression::expression::{Standard, Unary};
use zen_expression::functions::{DateMethod, DeprecatedFunction, FunctionKind, InternalFunction, MethodKind};
use zen_expression::{Expression, Isolate, Variable};

use crate::facts::{FACT_MODEL_VERSION, FACT_ROOTS, fact_type, is_fact_path};

/// The longest cell source accepted, in bytes.
pub const CELL_LENGTH_MAX: usize = 4_096;

/// The names a cell may read besides the fact model: the keys of the
/// expression nodes that run before its node.
#[derive(Debug, Clone, Default)]
pub(crate) struct Visible {
    pub(crate) derived_roots: Vec<String>,
}

/// What a compiled cell needs at run time besides its bytecode.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CellTraits {
    /// The cell calls `d(...)`, whose meaning depends on the time zone.
    pub(crate) uses_dates: bool,
    /// The cell reads nothing (no field, no function): its value is fixed.
    pub(crate) constant: bool,
}

pub(crate) fn compile_standard(source: &str, visible: &Visible) -> Result<(Expression<Standard>, CellTraits), String> {
    check_length(source)?;
    let expression = Isolate::new().compile_standard(source).map_err(|error| format!("does not compile: {error}"))?;
    let traits = check_bytecode(expression.bytecode(), visible)?;
    Ok((expression, traits))
}

pub(crate) fn compile_unary(source: &str, visible: &Visible) -> Result<(Expression<Unary>, CellTraits), String> {
    check_length(source)?;
    let expression = Isolate::new().compile_unary(source).map_err(|error| format!("does not compile as a unary test: {error}"))?;
    let traits = check_bytecode(expression.bytecode(), visible)?;
    Ok((expression, traits))
}

fn check_length(source: &str) -> Result<(), String> {
    if source.len() > CELL_LENGTH_MAX {
        return Err(format!("the cell is {} bytes long; at most {CELL_LENGTH_MAX}", source.len()));
    }
    Ok(())
}

/// The literal strings a unary test compares `$` with, when that is all it
/// does (`'J1100'`, `'70551', '70552'`): the cells a code index can hold.
pub(crate) fn literal_strings(bytecode: &[Opcode]) -> Option<Vec<String>> {
    let mut literals = Vec::new();
    let mut rest = bytecode;
    loop {
        match rest {
            [Opcode::FetchEnv(dollar), Opcode::PushString(literal), Opcode::Equal, tail @ ..] if &**dollar == "$" => {
                literals.push(literal.to_string());
                match tail {
                    [] => return Some(literals),
                    [Opcode::Jump(zen_expression::compiler::Jump::IfTrue, 4), Opcode::Pop, more @ ..] => rest = more,
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
}

/// Refuses what would make a decision depend on when or where it ran, and
/// references to fields that do not exist.
fn check_bytecode(bytecode: &[Opcode], visible: &Visible) -> Result<CellTraits, String> {
    let mut traits = CellTraits { uses_dates: false, constant: true };
    for (position, opcode) in bytecode.iter().enumerate() {
        match opcode {
            Opcode::PushString(text) if text.trim().eq_ignore_ascii_case("now") => {
                return Err("`now` reads the system clock; use `decision.date`, the decision's recorded clock".to_owned());
            }
            Opcode::CallFunction { kind, arg_count } => {
                traits.constant = false;
                match kind {
                    FunctionKind::Internal(InternalFunction::Rand) => {
                        return Err("`rand` is not deterministic; a decision must replay byte for byte".to_owned());
                    }
                    FunctionKind::Internal(InternalFunction::Date) => {
                        traits.uses_dates = true;
                        if *arg_count == 0 {
                            return Err("`d()` without an argument reads the system clock; use `d(decision.date)`, the decision's recorded clock".to_owned());
                        }
                        // The first argument, when it is a literal: `d('x')`, or `d('x', 'zone')`.
                        let first = match (*arg_count, position.checked_sub(1).and_then(|before| bytecode.get(before))) {
                            (1, argument) => argument,
                            (2, Some(Opcode::PushString(_))) => position.checked_sub(2).and_then(|before| bytecode.get(before)),
                            _ => None,
                        };
                        if let Some(Opcode::PushString(text)) = first
                            && !text.starts_with(|first: char| first.is_ascii_digit())
                        {
                            return Err(format!("`d('{text}')` is not a date (a time-zone name gives the current time); use `d(decision.date)`"));
                        }
                    }
                    FunctionKind::Deprecated(DeprecatedFunction::Date | DeprecatedFunction::Time) if *arg_count == 0 => {
                        return Err("a date function without an argument reads the system clock; use `decision.date`".to_owned());
                    }
                    _ => {}
                }
            }
            Opcode::CallMethod { kind: MethodKind::DateMethod(method), .. } => {
                traits.constant = false;
                if matches!(method, DateMethod::IsToday | DateMethod::IsYesterday | DateMethod::IsTomorrow) {
                    return Err(format!("`{method}` compares with the system clock; compare with `d(decision.date)` instead"));
                }
            }
            Opcode::FetchEnv(name) => {
                traits.constant = false;
                check_reference(&[name.to_string()], visible)?;
            }
            Opcode::FetchFast(targets) => {
                traits.constant = false;
                let segments: Vec<String> = match targets.first() {
                    Some(FetchFastTarget::Begin | FetchFastTarget::Root) => targets[1..]
                        .iter()
                        .map_while(|target| match target {
                            FetchFastTarget::String(segment) => Some(segment.to_string()),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                if !segments.is_empty() {
                    check_reference(&segments, visible)?;
                }
            }
            Opcode::Fetch | Opcode::FetchRootEnv | Opcode::Pointer(_) => traits.constant = false,
            _ => {}
        }
    }
    Ok(traits)
}

fn check_reference(segments: &[String], visible: &Visible) -> Result<(), String> {
    let root = segments[0].as_str();
    if root == "$" || root == "$root" || visible.derived_roots.iter().any(|derived| derived == root) {
        return Ok(());
    }
    if FACT_ROOTS.contains(&root) {
        // Walk down as far as the fact model goes; a leaf may be indexed
        // further only when it is a list (`line.modifiers[0]`).
        let mut path = root.to_owned();
        for segment in &segments[1..] {
            if fact_type(&path).is_some() {
                return Err(format!("`{path}` is a field of the fact model ({FACT_MODEL_VERSION}) and has no member `{segment}`"));
            }
            path.push('.');
            path.push_str(segment);
            if !is_fact_path(&path) {
                return Err(format!("`{path}` is not a field of the fact model ({FACT_MODEL_VERSION})"));
            }
        }
        return Ok(());
    }
    Err(format!(
        "`{}` is not a field of the fact model ({FACT_MODEL_VERSION}: {}) nor the key of an expression node before this one",
        segments.join("."),
        FACT_ROOTS.join(", ")
    ))
}

/// Describes a value a cell gave, for an error message.
pub(crate) fn describe(value: &Variable) -> String {
    match value {
        Variable::Null => "null".to_owned(),
        Variable::Bool(flag) => format!("the boolean {flag}"),
        Variable::Number(number) => format!("the number {number}"),
        Variable::String(text) => format!("the string `{text}`"),
        Variable::Array(_) => "a list".to_owned(),
        Variable::Object(_) => "an object".to_owned(),
        Variable::Dynamic(_) => format!("the value {value}"),
    }
}
