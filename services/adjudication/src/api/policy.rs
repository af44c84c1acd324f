//! The payer's policy data over HTTP: edit tables, pricing tables and rule
//! sets, each upload a full new version.
//!
//! - `POST /v1/payers/{payer_id}/edit-tables/{ncci-ptp|mue|exclusions|prior-authorizations}`
//!   and `POST /v1/payers/{payer_id}/policy/{rvu|gpci|zip-localities|fee-schedules|contracts|drg-weights|per-diems}`:
//!   the CSV body in the layout docs/policy-data.md names (the CMS ones for
//!   NCCI PTP, MUE, RVU, GPCI, ZIP localities and the OIG LEIE), with
//!   `?effective_from=YYYY-MM-DD[&effective_to=YYYY-MM-DD]`.
//! - `PUT /v1/payers/{payer_id}/rule-sets/{name}`: the JDM graph with its
//!   `policy`; the effective dates are the policy's.
//! - `GET /v1/payers/{payer_id}/policy-versions`: every version stored.
//!
//! An upload is parsed whole with the `claimtrail-policy` loader (or
//! `RuleSet::parse`) before anything is stored: a failure stores nothing and
//! answers 422 with every error, each naming its line (`line 7`) or JSON
//! path. A valid upload is stored with its bytes, content-addressed (hex
//! SHA3-256 of the uploaded bytes; of a rule set's canonical JSON), and
//! `policy_version.published.v1` (hash, row count, effective dates, never the
//! rows) goes to the outbox in the same transaction, so the ledger holds it.
//! Versions are bitemporal: each carries when adjudication recorded it, and a
//! decision picks among those recorded by its own time.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use claimtrail_events::{NewEvent, PolicyVersionPublished, Timestamp, format_date, parse_date, sha3_256};
use claimtrail_policy::LoadErrors;
use claimtrail_rules::{RuleSet, RuleSetErrors};
use claimtrail_runtime::Runtime;
use claimtrail_runtime::auth::{Role, Tenant};
use claimtrail_runtime::extract::{ForPayer, LimitedBody, PayerPermission, PolicyFileBody};
use claimtrail_runtime::http::{FieldError, Problem};
use claimtrail_store::outbox;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use crate::storage::{self, PolicyVersion};

/// The kinds of policy data a payer uploads, each a table of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// NCCI procedure-to-procedure edits (CMS layout).
    NcciPtp,
    /// Medically unlikely edits (CMS layout).
    Mue,
    /// The OIG exclusion list (LEIE layout).
    Exclusions,
    /// Prior authorizations (docs/policy-data.md).
    PriorAuthorizations,
    /// PPRRVU relative value units (CMS layout).
    Rvu,
    /// Geographic practice cost indices (CMS layout).
    Gpci,
    /// ZIP code to carrier and locality (CMS layout).
    ZipLocalities,
    /// The payer's fee schedule by code, modifier and place of service.
    FeeSchedules,
    /// Reimbursement method per code range.
    Contracts,
    /// MS-DRG relative weights.
    DrgWeights,
    /// Per diem rates.
    PerDiems,
    /// A rule set: decision tables and policy switches.
    RuleSet,
}

/// The CSV tables, in the order the listing documents them.
pub const TABLE_KINDS: [PolicyKind; 11] = [
    PolicyKind::NcciPtp,
    PolicyKind::Mue,
    PolicyKind::Exclusions,
    PolicyKind::PriorAuthorizations,
    PolicyKind::Rvu,
    PolicyKind::Gpci,
    PolicyKind::ZipLocalities,
    PolicyKind::FeeSchedules,
    PolicyKind::Contracts,
    PolicyKind::DrgWeights,
    PolicyKind::PerDiems,
];

impl PolicyKind {
    /// The name in paths, events and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::NcciPtp => "ncci-ptp",
            PolicyKind::Mue => "mue",
            PolicyKind::Exclusions => "exclusions",
            PolicyKind::PriorAuthorizations => "prior-authorizations",
            PolicyKind::Rvu => "rvu",
            PolicyKind::Gpci => "gpci",
            PolicyKind::ZipLocalities => "zip-localities",
            PolicyKind::FeeSchedules => "fee-schedules",
            PolicyKind::Contracts => "contracts",
            PolicyKind::DrgWeights => "drg-weights",
            PolicyKind::PerDiems => "per-diems",
            PolicyKind::RuleSet => "rule-set",
        }
    }

    /// Edit tables live under `/edit-tables/`, pricing tables under `/policy/`.
    pub fn is_edit_table(self) -> bool {
        matches!(self, PolicyKind::NcciPtp | PolicyKind::Mue | PolicyKind::Exclusions | PolicyKind::PriorAuthorizations)
    }

    /// The CSV table named `segment` in a path, if any.
    pub fn table(segment: &str) -> Option<PolicyKind> {
        TABLE_KINDS.into_iter().find(|kind| kind.as_str() == segment)
    }

    /// Parses `body` whole with the table's loader: its row count, or every failure.
    pub fn load(self, body: &[u8]) -> Result<usize, LoadErrors> {
        use claimtrail_policy as policy;
        Ok(match self {
            PolicyKind::NcciPtp => policy::NcciTable::load(body)?.len(),
            PolicyKind::Mue => policy::MueTable::load(body)?.len(),
            PolicyKind::Exclusions => policy::ExclusionList::load(body)?.len(),
            PolicyKind::PriorAuthorizations => policy::PriorAuthorizations::load(body)?.len(),
            PolicyKind::Rvu => policy::RvuTable::load(body)?.len(),
            PolicyKind::Gpci => policy::GpciTable::load(body)?.len(),
            PolicyKind::ZipLocalities => policy::ZipLocalities::load(body)?.len(),
            PolicyKind::FeeSchedules => policy::FeeSchedule::load(body)?.len(),
            PolicyKind::Contracts => policy::Contracts::load(body)?.len(),
            PolicyKind::DrgWeights => policy::DrgWeights::load(body)?.len(),
            PolicyKind::PerDiems => policy::PerDiems::load(body)?.len(),
            PolicyKind::RuleSet => {
                return Err(LoadErrors { errors: vec![claimtrail_policy::LoadError { line: 0, reason: "a rule set is not a CSV table".into() }], more: 0 });
            }
        })
    }
}

/// The query of a table upload: the span of dates of service it governs.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EffectiveQuery {
    /// The first date of service the version applies to (YYYY-MM-DD). Required.
    pub effective_from: Option<String>,
    /// The first date of service it no longer applies to (YYYY-MM-DD); open-ended when absent.
    pub effective_to: Option<String>,
}

/// The body of `PUT /v1/payers/{payer_id}/rule-sets/{name}`, for the
/// OpenAPI document: a JDM graph as GoRules' editor exports it, with the
/// payer's policy switches (docs/rules.md). The handler reads the raw bytes
/// with `RuleSet::parse`, which checks every member and cell.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct RuleSetBody {
    /// `application/vnd.gorules.decision`, as the editor writes it.
    #[serde(rename = "contentType")]
    pub content_type: Option<String>,
    /// Input, output, decision-table, expression and switch nodes (function nodes are refused).
    pub nodes: Vec<JdmNode>,
    pub edges: Vec<JdmEdge>,
    pub policy: RuleSetPolicyBody,
}

/// One node of the graph, by its `type`; every node also carries the
/// editor's `position` (ignored). Function, decision and custom nodes are
/// refused.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type")]
#[allow(dead_code)]
pub enum JdmNode {
    /// Where evaluation starts; exactly one. Its `content` (the editor's `schema`) is ignored.
    #[serde(rename = "inputNode")]
    Input { id: String, name: Option<String> },
    /// Where the graph ends; no edge may leave it. Its `content` is ignored.
    #[serde(rename = "outputNode")]
    Output { id: String, name: Option<String> },
    /// Fires the rules whose tests hold; their outputs are actions.
    #[serde(rename = "decisionTableNode")]
    DecisionTable { id: String, name: Option<String>, content: DecisionTableContent },
    /// Computes values that later nodes read under their keys.
    #[serde(rename = "expressionNode")]
    Expression { id: String, name: Option<String>, content: ExpressionContent },
    /// Sends evaluation down the edges whose `sourceHandle` names a statement that holds.
    #[serde(rename = "switchNode")]
    Switch { id: String, name: Option<String>, content: SwitchContent },
}

/// `first` fires the first rule (statement) that holds, `collect` every one, in order.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HitPolicy {
    First,
    Collect,
}

/// The editor's transform attributes: `passThrough` changes nothing (every
/// node reads the whole fact model); `inputField` and `outputPath` must be
/// empty or null, and `executionMode` `single`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct NodeTransform {
    #[serde(rename = "passThrough")]
    pub pass_through: Option<bool>,
    #[serde(rename = "inputField")]
    pub input_field: Option<String>,
    #[serde(rename = "outputPath")]
    pub output_path: Option<String>,
    /// `single`.
    #[serde(rename = "executionMode")]
    pub execution_mode: Option<String>,
}

/// A decision table: at most 64 columns and 10,000 rules (docs/rules.md).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct DecisionTableContent {
    #[serde(rename = "hitPolicy")]
    pub hit_policy: HitPolicy,
    pub inputs: Vec<TableInput>,
    /// One of them with the field `action`.
    pub outputs: Vec<TableOutput>,
    pub rules: Vec<TableRule>,
    #[serde(flatten)]
    pub transform: NodeTransform,
}

/// An input column: its cells are unary tests on the value of `field`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TableInput {
    /// Unique in the table; not starting with `_`.
    pub id: String,
    pub name: Option<String>,
    /// A field of the fact model, an expression over it, or the key of an
    /// earlier expression node, e.g. `line.procedure_code`. Without it the
    /// cells are whole boolean expressions.
    pub field: Option<String>,
}

/// An output column: its cells are expressions giving an action field.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TableOutput {
    /// Unique in the table; not starting with `_`.
    pub id: String,
    pub name: Option<String>,
    /// An action field: `action`, `carc`, `rarc`, `reason`, `percent` or `amount` (docs/rules.md, "Actions").
    pub field: String,
}

/// One rule: its id, a description, and one cell per column, named by the
/// column's id (an empty or missing input cell holds for any value).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TableRule {
    #[serde(rename = "_id")]
    pub id: Option<String>,
    #[serde(rename = "_description")]
    pub description: Option<String>,
    /// Column id to cell: a unary test (input) or an expression (output), at most 4,096 bytes.
    #[serde(flatten)]
    pub cells: std::collections::BTreeMap<String, Option<String>>,
}

/// An expression node's expressions, evaluated in order.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ExpressionContent {
    pub expressions: Vec<NamedExpression>,
    #[serde(flatten)]
    pub transform: NodeTransform,
}

/// One expression: later nodes (and later expressions of the node) read its value under `key`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct NamedExpression {
    pub id: Option<String>,
    /// Identifiers joined by dots, outside the fact model's roots, e.g. `derived.high_charge`.
    pub key: String,
    /// A standard expression, e.g. `line.charge > 1000`.
    pub value: String,
}

/// A switch node's statements.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SwitchContent {
    /// `first` when absent.
    #[serde(rename = "hitPolicy")]
    pub hit_policy: Option<HitPolicy>,
    pub statements: Vec<SwitchStatement>,
}

/// One statement: the edges whose `sourceHandle` is its id run when it holds.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SwitchStatement {
    pub id: String,
    /// A standard expression; empty on the default statement.
    pub condition: Option<String>,
    /// At most one statement is the default: it holds when no other does.
    #[serde(rename = "isDefault")]
    pub is_default: Option<bool>,
}

/// One edge of the graph.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct JdmEdge {
    pub id: String,
    #[serde(rename = "sourceId")]
    pub source_id: String,
    #[serde(rename = "targetId")]
    pub target_id: String,
    /// For an edge leaving a switch node: the statement it leaves from.
    #[serde(rename = "sourceHandle")]
    pub source_handle: Option<String>,
}

/// The payer's policy switches.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct RuleSetPolicyBody {
    /// YYYY-MM-DD: the first date of service the rule set applies to.
    pub effective_from: String,
    /// YYYY-MM-DD: the last date of service, inclusive; open-ended when absent.
    pub effective_to: Option<String>,
    /// `deny` (the whole line, CO-151 with N362) or `reduce` (pay up to the limit).
    pub mue_action: String,
    pub timely_filing_days: u32,
    /// Claims charging more than this pend for review.
    #[schema(value_type = Option<String>, example = "25000.00")]
    pub pend_amount_over: Option<String>,
    /// Lines with these codes pend.
    pub pend_codes: Option<Vec<String>>,
    /// The standard edits that run: `coverage`, `death`, `timely_filing`, `enrollment`, `exclusion`,
    /// `duplicate`, `ncci`, `mue`, `prior_authorization`, `multiple_procedure`.
    pub standard_edits: Vec<String>,
}

/// One stored version of a payer's policy data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PolicyVersionView {
    pub payer_id: String,
    /// `ncci-ptp`, `mue`, `exclusions`, `prior-authorizations`, `rvu`, `gpci`,
    /// `zip-localities`, `fee-schedules`, `contracts`, `drg-weights`, `per-diems` or `rule-set`.
    pub kind: String,
    /// The rule set's name; the kind again for tables.
    pub name: String,
    pub version_id: String,
    /// Hex SHA3-256 of the uploaded bytes (of a rule set's canonical JSON): what decisions cite.
    pub content_hash: String,
    pub row_count: u64,
    /// YYYY-MM-DD, inclusive.
    pub effective_from: String,
    /// YYYY-MM-DD, exclusive; none while open-ended.
    pub effective_to: Option<String>,
    /// When adjudication stored it (RFC 3339).
    pub recorded_at: String,
}

/// The answer of `GET /v1/payers/{payer_id}/policy-versions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PolicyVersionsView {
    /// By kind, name and effective date, then as recorded.
    pub versions: Vec<PolicyVersionView>,
}

pub(crate) fn view(version: PolicyVersion) -> PolicyVersionView {
    PolicyVersionView {
        payer_id: version.payer_id,
        kind: version.kind,
        name: version.name,
        version_id: version.version_id.to_string(),
        content_hash: version.content_hash,
        row_count: version.row_count,
        effective_from: format_date(version.effective_from),
        effective_to: version.effective_to.map(format_date),
        recorded_at: version.recorded_at.to_string(),
    }
}

/// The load failures as problem fields: `line N` (or `body` for the file as a whole) and the reason.
pub fn load_errors(errors: &LoadErrors) -> Vec<FieldError> {
    let mut fields: Vec<FieldError> = errors
        .errors
        .iter()
        .map(|error| FieldError { path: if error.line == 0 { "body".into() } else { format!("line {}", error.line) }, message: error.reason.clone() })
        .collect();
    if errors.more > 0 {
        fields.push(FieldError { path: "body".into(), message: format!("and {} more failures", errors.more) });
    }
    fields
}

/// The rule set's problems as problem fields, each with its JSON path.
pub fn rule_set_errors(errors: &RuleSetErrors) -> Vec<FieldError> {
    errors.errors().iter().map(|error| FieldError { path: error.path.clone(), message: error.reason.clone() }).collect()
}

/// The span of an upload, or what is wrong with it.
pub fn effective_span(query: &EffectiveQuery) -> Result<(Date, Option<Date>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut date = |name: &str, text: Option<&String>| -> Option<Date> {
        let text = text?;
        let parsed = parse_date(text);
        if parsed.is_none() {
            errors.push(FieldError { path: name.into(), message: format!("`{text}` is not a date (YYYY-MM-DD)") });
        }
        parsed
    };
    let from = date("effective_from", query.effective_from.as_ref());
    let to = date("effective_to", query.effective_to.as_ref());
    if query.effective_from.is_none() {
        errors.push(FieldError { path: "effective_from".into(), message: "required: the first date of service the version applies to (YYYY-MM-DD)".into() });
    }
    if let (Some(from), Some(to)) = (from, to)
        && to <= from
    {
        errors.push(FieldError { path: "effective_to".into(), message: format!("must be after effective_from {}", format_date(from)) });
    }
    match from {
        Some(from) if errors.is_empty() => Ok((from, to)),
        _ => Err(errors),
    }
}

pub(crate) fn check_payer_id(payer_id: &str) -> Result<(), Problem> {
    if payer_id.is_empty() || payer_id.len() > 80 || !payer_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(Problem::unprocessable(
            "the payer id is invalid; nothing was stored",
            vec![FieldError { path: "payer_id".into(), message: "payer id must be 1-80 letters, digits, - or _".into() }],
        ));
    }
    Ok(())
}

/// Uploads payer `{payer_id}`'s policy data: an admin key, or the payer's own.
pub(crate) struct UploadsPolicy;

impl PayerPermission for UploadsPolicy {
    fn denied(_: &Tenant, payer_id: &str) -> String {
        format!("only an admin key or payer {payer_id}'s own key uploads its policy data")
    }
}

/// Lists payer `{payer_id}`'s policy versions: its own key, an admin key, or
/// an auditor key within it.
pub(crate) struct ReadsPolicy;

impl PayerPermission for ReadsPolicy {
    fn allows(tenant: &Tenant, payer_id: &str) -> bool {
        match tenant.role {
            Role::Payer | Role::Admin => tenant.role.may_publish_for(tenant, payer_id),
            Role::Auditor => tenant.payers.includes(payer_id),
            _ => false,
        }
    }
    fn denied(_: &Tenant, payer_id: &str) -> String {
        format!("only payer {payer_id}'s own key, an admin key or an auditor key within it lists its policy versions")
    }
}

/// The two families of CSV tables, each uploaded under its own path:
/// edit tables under `/edit-tables/`, pricing tables under `/policy/`. The
/// route puts its family in the request's extensions for [`upload_table`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFamily {
    Edit,
    Pricing,
}

impl TableFamily {
    /// The family's table named `segment`, or a 404 naming the family's tables.
    pub fn table(self, segment: &str) -> Result<PolicyKind, Problem> {
        let in_family = |kind: &PolicyKind| kind.is_edit_table() == (self == TableFamily::Edit);
        PolicyKind::table(segment).filter(in_family).ok_or_else(|| {
            let names: Vec<&str> = TABLE_KINDS.iter().filter(|kind| in_family(kind)).map(|kind| kind.as_str()).collect();
            let family = match self {
                TableFamily::Edit => "edit",
                TableFamily::Pricing => "pricing",
            };
            Problem::not_found(format!("no {family} table `{segment}` ({})", names.join(", ")))
        })
    }
}

/// Stores one version and emits its event in one transaction.
pub(crate) async fn store_version(runtime: &Runtime, version: PolicyVersion, body: &[u8]) -> Result<PolicyVersionView, Problem> {
    let store = &runtime.store;
    let tx = store.db().begin().await?;
    storage::insert_policy_version(store, &tx, &version, body).await?;
    let event = PolicyVersionPublished {
        payer_id: version.payer_id.clone(),
        kind: version.kind.clone(),
        name: version.name.clone(),
        version_id: version.version_id.to_string(),
        content_hash: version.content_hash.clone(),
        row_count: version.row_count,
        effective_from: version.effective_from,
        effective_to: version.effective_to,
    };
    let key = format!("policy:{}:{}:{}", version.payer_id, version.kind, version.name);
    outbox::append(store, &tx, &runtime.producer, vec![NewEvent::new(event, key)]).await?;
    tx.commit().await?;
    runtime.relay_wakeup.notify_waiters();
    Ok(view(version))
}

/// `POST /v1/payers/{payer_id}/edit-tables/{table}` and
/// `POST /v1/payers/{payer_id}/policy/{table}`: one handler, the route's
/// [`TableFamily`] telling which tables the path holds.
pub(crate) async fn upload_table(
    State(runtime): State<Runtime>,
    Extension(family): Extension<TableFamily>,
    ForPayer { payer_id, .. }: ForPayer<UploadsPolicy>,
    Path((_, table)): Path<(String, String)>,
    Query(query): Query<EffectiveQuery>,
    PolicyFileBody(body): PolicyFileBody,
) -> Result<(StatusCode, Json<PolicyVersionView>), Problem> {
    let kind = family.table(&table)?;
    check_payer_id(&payer_id)?;
    let (effective_from, effective_to) =
        effective_span(&query).map_err(|errors| Problem::unprocessable("the version's effective dates are invalid; nothing was stored", errors))?;
    // Without a copy when the body is held once (a file of up to `--policy-bytes-max`).
    let body = Vec::from(body);
    let (body, loaded) = tokio::task::spawn_blocking(move || {
        let loaded = kind.load(&body);
        (body, loaded)
    })
    .await
    .map_err(|e| Problem::internal(&anyhow::anyhow!("loading a {} table: {e}", kind.as_str())))?;
    let row_count = loaded
        .map_err(|errors| Problem::unprocessable(format!("the {} table is invalid ({errors}); nothing was stored", kind.as_str()), load_errors(&errors)))?;
    let version = PolicyVersion {
        version_id: Uuid::now_v7(),
        payer_id,
        kind: kind.as_str().to_owned(),
        name: kind.as_str().to_owned(),
        content_hash: hex::encode(sha3_256(&body)),
        row_count: row_count as u64,
        effective_from,
        effective_to,
        recorded_at: Timestamp::now(),
    };
    Ok((StatusCode::CREATED, Json(store_version(&runtime, version, &body).await?)))
}

/// The OpenAPI operation of `upload_table` on one of the two paths it serves
/// (a no-op: utoipa takes one path per function).
macro_rules! upload_table_operation {
    ($operation:ident, $path:tt, $tables:tt, $not_found:tt) => {
        #[utoipa::path(post, path = $path, tag = "adjudication",
            params(("payer_id" = String, Path, description = "Payer"),
                   ("table" = String, Path, description = $tables),
                   EffectiveQuery),
            request_body(content = String, content_type = "text/csv", description = "The whole table in its CSV layout (docs/policy-data.md), at most `--policy-bytes-max` (256 MiB by default)"),
            responses((status = 201, description = "Stored as a new version", body = PolicyVersionView),
                      (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
                      (status = 403, description = "Not an admin key, nor this payer's key", body = Problem, content_type = "application/problem+json"),
                      (status = 404, description = $not_found, body = Problem, content_type = "application/problem+json"),
                      (status = 413, description = "Larger than `--policy-bytes-max`", body = Problem, content_type = "application/problem+json"),
                      (status = 422, description = "Invalid table or dates: every error with its line; nothing stored", body = Problem, content_type = "application/problem+json")),
            security(("api_key" = [])))]
        #[allow(dead_code)]
        pub(crate) fn $operation() {}
    };
}

upload_table_operation!(
    upload_edit_table,
    "/v1/payers/{payer_id}/edit-tables/{table}",
    "`ncci-ptp`, `mue`, `exclusions` or `prior-authorizations`",
    "No such edit table"
);
upload_table_operation!(
    upload_pricing_table,
    "/v1/payers/{payer_id}/policy/{table}",
    "`rvu`, `gpci`, `zip-localities`, `fee-schedules`, `contracts`, `drg-weights` or `per-diems`",
    "No such pricing table"
);

#[utoipa::path(put, path = "/v1/payers/{payer_id}/rule-sets/{name}", tag = "adjudication",
    params(("payer_id" = String, Path, description = "Payer"), ("name" = String, Path, description = "The rule set's name")),
    request_body(content = RuleSetBody, description = "The JDM graph (nodes, edges) with its `policy` (docs/rules.md)"),
    responses((status = 201, description = "Stored as a new version, with its content hash", body = PolicyVersionView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not an admin key, nor this payer's key", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "Larger than the server's body limit", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Refused: every problem with its JSON path; nothing stored", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn put_rule_set(
    State(runtime): State<Runtime>,
    ForPayer { payer_id, .. }: ForPayer<UploadsPolicy>,
    Path((_, name)): Path<(String, String)>,
    LimitedBody(body): LimitedBody,
) -> Result<(StatusCode, Json<PolicyVersionView>), Problem> {
    check_payer_id(&payer_id)?;
    let rule_set = RuleSet::parse(&name, &body)
        .map_err(|errors| Problem::unprocessable(format!("rule set `{name}` is refused; nothing was stored"), rule_set_errors(&errors)))?;
    let (_, rules) = rule_set.table_and_rule_counts();
    let version = PolicyVersion {
        version_id: Uuid::now_v7(),
        payer_id,
        kind: PolicyKind::RuleSet.as_str().to_owned(),
        name,
        content_hash: rule_set.content_hash().to_owned(),
        row_count: rules as u64,
        effective_from: rule_set.effective_from(),
        // The policy's last date is inclusive; a version's end is the first date it no longer applies to.
        effective_to: rule_set.effective_to().and_then(Date::next_day),
        recorded_at: Timestamp::now(),
    };
    Ok((StatusCode::CREATED, Json(store_version(&runtime, version, rule_set.canonical_bytes()).await?)))
}

#[utoipa::path(get, path = "/v1/payers/{payer_id}/policy-versions", tag = "adjudication",
    params(("payer_id" = String, Path, description = "Payer")),
    responses((status = 200, description = "Every version the payer uploaded", body = PolicyVersionsView),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a key of this payer (payer, admin or auditor)", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn list_versions(
    State(runtime): State<Runtime>,
    ForPayer { payer_id, .. }: ForPayer<ReadsPolicy>,
) -> Result<Json<PolicyVersionsView>, Problem> {
    let versions = storage::policy_versions(&runtime.store, runtime.store.reader(), &payer_id).await?;
    Ok(Json(PolicyVersionsView { versions: versions.into_iter().map(view).collect() }))
}

#[utoipa::path(get, path = "/v1/payers/{payer_id}/policy-versions/{version_id}", tag = "adjudication",
    params(("payer_id" = String, Path, description = "Payer"), ("version_id" = String, Path, description = "The version's id (from its `policy_version.published.v1`)")),
    responses((status = 200, description = "The version's stored bytes, whose SHA3-256 is its `content_hash` (CSV tables as text/csv, rule sets and plans as JSON); \
                the version's kind and hash in the `Claimtrail-Policy-Kind` and `Claimtrail-Content-Hash` headers", body = String, content_type = "text/csv"),
              (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a key of this payer (payer, admin or auditor)", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such version of this payer", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn version_content(
    State(runtime): State<Runtime>,
    ForPayer { payer_id, .. }: ForPayer<ReadsPolicy>,
    Path((_, version_id)): Path<(String, String)>,
) -> Result<axum::response::Response, Problem> {
    use axum::response::IntoResponse as _;
    let not_found = || Problem::not_found(format!("payer {payer_id} has no policy version {version_id}"));
    let id = Uuid::parse_str(&version_id).map_err(|_| not_found())?;
    let (version, body) = storage::policy_version(&runtime.store, runtime.store.reader(), &payer_id, id).await?.ok_or_else(not_found)?;
    let content_type = if body.first() == Some(&b'{') { "application/json" } else { "text/csv" };
    let headers = [
        (axum::http::header::CONTENT_TYPE, content_type.to_owned()),
        (axum::http::HeaderName::from_static("claimtrail-policy-kind"), version.kind),
        (axum::http::HeaderName::from_static("claimtrail-content-hash"), version.content_hash),
    ];
    Ok((headers, body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(from: Option<&str>, to: Option<&str>) -> EffectiveQuery {
        EffectiveQuery { effective_from: from.map(str::to_owned), effective_to: to.map(str::to_owned) }
    }

    #[test]
    fn every_table_kind_reads_back_from_its_path_segment() {
        for kind in TABLE_KINDS {
            assert_eq!(PolicyKind::table(kind.as_str()), Some(kind));
        }
        assert_eq!(PolicyKind::table("rule-set"), None, "rule sets have their own path");
        assert_eq!(PolicyKind::table("NCCI-PTP"), None);
    }

    #[test]
    fn each_path_takes_its_own_family_of_tables_and_names_them_when_refusing() {
        assert_eq!(TableFamily::Edit.table("mue").unwrap(), PolicyKind::Mue);
        assert_eq!(TableFamily::Pricing.table("rvu").unwrap(), PolicyKind::Rvu);
        let refused = TableFamily::Edit.table("rvu").unwrap_err();
        assert_eq!((refused.status, refused.detail.as_str()), (404, "no edit table `rvu` (ncci-ptp, mue, exclusions, prior-authorizations)"));
        let refused = TableFamily::Pricing.table("mue").unwrap_err();
        assert_eq!(refused.detail, "no pricing table `mue` (rvu, gpci, zip-localities, fee-schedules, contracts, drg-weights, per-diems)");
        assert!(TableFamily::Pricing.table("rule-set").is_err());
    }

    #[test]
    fn an_upload_needs_its_first_date_of_service() {
        let errors = effective_span(&query(None, Some("2027-01-01"))).unwrap_err();
        assert_eq!(errors.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), ["effective_from"]);
    }

    #[test]
    fn an_end_on_or_before_the_start_is_refused_with_its_field() {
        let errors = effective_span(&query(Some("2026-04-01"), Some("2026-04-01"))).unwrap_err();
        assert_eq!(errors[0].path, "effective_to");
        let errors = effective_span(&query(Some("2026-13-01"), None)).unwrap_err();
        assert_eq!(errors[0].path, "effective_from");
        assert!(errors[0].message.contains("2026-13-01"));
    }

    #[test]
    fn a_span_reads_its_dates() {
        let (from, to) = effective_span(&query(Some("2026-01-01"), Some("2026-04-01"))).unwrap();
        assert_eq!((format_date(from), to.map(format_date)), ("2026-01-01".to_owned(), Some("2026-04-01".to_owned())));
    }

    /// The documented rule-set body reads what the engine reads: the demo
    /// rule set (every node type it accepts) parses both ways, node by node.
    #[test]
    fn the_documented_rule_set_body_reads_the_demo_rule_set() {
        let bytes = include_bytes!("../../../../libs/rules/tests/fixtures/demo-rule-set.json");
        assert!(claimtrail_rules::RuleSet::parse("demo-policy", bytes).is_ok(), "the engine refuses the fixture");
        let body: RuleSetBody = serde_json::from_slice(bytes).expect("the documented body reads the demo rule set");
        let kinds: Vec<&str> = body
            .nodes
            .iter()
            .map(|node| match node {
                JdmNode::Input { .. } => "input",
                JdmNode::Output { .. } => "output",
                JdmNode::DecisionTable { .. } => "table",
                JdmNode::Expression { .. } => "expression",
                JdmNode::Switch { .. } => "switch",
            })
            .collect();
        assert_eq!(kinds, ["input", "expression", "switch", "table", "table", "table", "table", "table", "output"]);
        let Some(JdmNode::DecisionTable { content, .. }) = body.nodes.iter().find(|node| matches!(node, JdmNode::DecisionTable { .. })) else {
            unreachable!("a table was counted above")
        };
        assert!(content.outputs.iter().any(|output| output.field == "action"));
        assert!(content.rules.iter().all(|rule| rule.id.is_some() && rule.cells.keys().all(|column| !column.starts_with('_'))));
    }

    /// A decision table without its hit policy is refused by the engine
    /// and does not fit the documented body either.
    #[test]
    fn a_table_without_a_hit_policy_fits_neither_the_engine_nor_the_document() {
        let mut body: serde_json::Value = serde_json::from_slice(include_bytes!("../../../../libs/rules/tests/fixtures/demo-rule-set.json")).unwrap();
        let table = body["nodes"].as_array_mut().unwrap().iter_mut().find(|node| node["type"] == "decisionTableNode").unwrap();
        table["content"].as_object_mut().unwrap().remove("hitPolicy");
        let bytes = serde_json::to_vec(&body).unwrap();
        let refused = claimtrail_rules::RuleSet::parse("demo-policy", &bytes).unwrap_err();
        assert!(refused.to_string().contains("hitPolicy"), "{refused}");
        let error = serde_json::from_slice::<RuleSetBody>(&bytes).unwrap_err();
        assert!(error.to_string().contains("hitPolicy"), "{error}");
    }

    #[test]
    fn a_malformed_mue_table_names_its_line_and_stores_nothing() {
        let csv = "HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n99213,1,1 Line Edit,Clinical\n99214,x,1 Line Edit,Clinical\n";
        let errors = PolicyKind::Mue.load(csv.as_bytes()).unwrap_err();
        let fields = load_errors(&errors);
        assert!(fields.iter().any(|field| field.path == "line 3"), "{fields:?}");
    }
}
