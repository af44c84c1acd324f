//! `claimtrail-dashboard`: the dashboard alone (same as `claimtrail serve dashboard`).

use clap::Parser;

#[derive(Parser)]
#[command(version, about = "Claimtrail dashboard")]
struct Cli {
    #[command(flatten)]
    settings: claimtrail_runtime::ServeSettings,
    #[command(flatten)]
    dashboard: claimtrail_dashboard::DashboardArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    claimtrail_runtime::telemetry::init("info", claimtrail_dashboard::SERVICE);
    let cli = Cli::parse();
    claimtrail_dashboard::run(cli.settings, cli.dashboard, claimtrail_runtime::shutdown_signal()).await
}
