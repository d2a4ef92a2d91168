//! `mirror-maestro demo`: the product plus two simulated GitLab instances, registered and
//! paired, so a newcomer sees a working setup with one command.

use anyhow::Context as _;
use gitlab_sim::{InstanceSpec, Seed, Sim, SimConfig};
use mm_config::Settings;
use mm_proto::v1::{
    CreateInstanceRequest, CreatePairRequest, ExportedMirror, ImportPairMirrorsRequest,
    MirrorDirection, Pair, instance_service_client::InstanceServiceClient,
    mirror_service_client::MirrorServiceClient, pair_service_client::PairServiceClient,
};
use tonic::{Request, metadata::MetadataValue, transport::Channel};

use crate::embedded;

/// Starts the simulators and the product, registers the simulated instances, creates a pair,
/// prints how to reach everything and runs until Ctrl-C.
pub async fn run(mut settings: Settings) -> anyhow::Result<()> {
    // The demo always starts from a clean state so its printed credentials are valid.
    let data_dir = settings.data_dir.join("demo");
    if data_dir.exists() {
        std::fs::remove_dir_all(&data_dir)
            .with_context(|| format!("cannot reset the demo data in {}", data_dir.display()))?;
    }
    std::fs::create_dir_all(&data_dir)?;
    settings.data_dir = data_dir.clone();
    settings.database_url = None;
    settings.allow_private_ips = true;

    println!("Starting two simulated GitLab instances (seeding repositories)...");
    let sim = Sim::start(SimConfig {
        instances: vec![
            InstanceSpec::ee("gitlab-east"),
            InstanceSpec::ee("gitlab-west"),
        ],
        seed: Seed::Demo,
        data_dir: Some(data_dir.join("gitlab-sim")),
        ..Default::default()
    })
    .await
    .context("cannot start the GitLab simulator")?;

    let product = embedded::start(settings).await?;
    let password = product
        .admin_password()
        .context("the demo needs the admin password; unset MM_ADMIN_PASSWORD or set it")?;
    register(
        &product.grpc_url(),
        &product.admin_username(),
        &password,
        &sim,
    )
    .await
    .context("cannot register the simulated instances")?;

    product.print_banner();
    println!("  Simulated GitLab instances (REST API v4 and git over HTTP)");
    for instance in &sim.instances {
        println!(
            "    {:<12} {}   admin token {}",
            instance.name, instance.base_url, instance.admin_token
        );
    }
    println!(
        "  Demo data lives in {} and is reset at each start.",
        data_dir.display()
    );
    println!();

    let result = product.wait().await;
    sim.shutdown().await;
    result
}

async fn register(grpc_url: &str, username: &str, password: &str, sim: &Sim) -> anyhow::Result<()> {
    let channel = Channel::from_shared(grpc_url.to_owned())?.connect().await?;
    let basic = format!(
        "Basic {}",
        base64_encode(format!("{username}:{password}").as_bytes())
    );
    let authorization: MetadataValue<_> = basic.parse()?;
    let authorize = move |mut request: Request<()>| {
        request
            .metadata_mut()
            .insert("authorization", authorization.clone());
        Ok(request)
    };
    let mut instances = InstanceServiceClient::with_interceptor(channel.clone(), authorize.clone());
    let mut pairs = PairServiceClient::with_interceptor(channel.clone(), authorize.clone());
    let mut mirrors = MirrorServiceClient::with_interceptor(channel, authorize);

    let mut ids = Vec::new();
    for instance in &sim.instances {
        let created = instances
            .create_instance(CreateInstanceRequest {
                name: instance.name.clone(),
                url: instance.base_url.clone(),
                description: format!(
                    "Simulated GitLab {} {}",
                    instance.version,
                    edition_name(instance)
                ),
                token: instance.admin_token.clone(),
            })
            .await?
            .into_inner();
        ids.push(created.instance.context("missing instance")?.id);
    }
    // Push mirrors of the acme projects from east to west, pull mirrors of the globex
    // projects from west into east (pull mirrors need the Enterprise Edition, which both
    // simulated instances run).
    let demo_pairs = [
        (
            "east-to-west",
            ids[0],
            ids[1],
            MirrorDirection::Push,
            "acme/",
            "Push mirrors from gitlab-east to gitlab-west",
        ),
        (
            "west-to-east-pull",
            ids[1],
            ids[0],
            MirrorDirection::Pull,
            "globex/",
            "Pull mirrors on gitlab-east from gitlab-west",
        ),
    ];
    let projects = gitlab_sim::SeedSpec::demo().projects;
    for (name, source, target, direction, prefix, description) in demo_pairs {
        let pair = pairs
            .create_pair(CreatePairRequest {
                pair: Some(Pair {
                    name: name.into(),
                    source_instance_id: source,
                    target_instance_id: target,
                    mirror_direction: direction as i32,
                    only_mirror_protected_branches: false,
                    mirror_overwrite_diverged: true,
                    description: description.into(),
                    ..Default::default()
                }),
            })
            .await?
            .into_inner()
            .pair
            .context("missing pair")?;
        let entries = projects
            .iter()
            .filter(|project| project.path.starts_with(prefix))
            .map(|project| ExportedMirror {
                source_project_path: project.path.clone(),
                target_project_path: project.path.clone(),
                ..Default::default()
            })
            .collect();
        mirrors
            .import_pair_mirrors(ImportPairMirrorsRequest {
                pair_id: pair.id,
                mirrors: entries,
                dry_run: false,
            })
            .await?;
    }
    Ok(())
}

fn edition_name(instance: &gitlab_sim::SimInstance) -> &'static str {
    match instance.edition {
        gitlab_sim::Edition::Ee => "Enterprise Edition",
        gitlab_sim::Edition::Ce => "Community Edition",
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
