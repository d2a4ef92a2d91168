//! The task handlers and their registration.

use std::sync::Arc;

use async_trait::async_trait;
use mm_tasks::{HandlerRegistry, Task, TaskError, TaskHandler};

use crate::context::MirrorsContext;
use crate::item::{OpResult, Run, run_item};
use crate::kinds::task;
use crate::{create, delete, instance, rotate, sync, update, verify};

/// Which operation a handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Create,
    Update,
    Sync,
    RefreshStatus,
    Verify,
    RotateToken,
    Delete,
    InstanceVerify,
    PairRemove,
    InstanceRemove,
}

impl Operation {
    /// Every operation with its task kind.
    pub const ALL: [(&'static str, Operation); 10] = [
        (task::MIRROR_CREATE, Operation::Create),
        (task::MIRROR_UPDATE, Operation::Update),
        (task::MIRROR_SYNC, Operation::Sync),
        (task::MIRROR_REFRESH_STATUS, Operation::RefreshStatus),
        (task::MIRROR_VERIFY, Operation::Verify),
        (task::MIRROR_ROTATE_TOKEN, Operation::RotateToken),
        (task::MIRROR_DELETE, Operation::Delete),
        (task::INSTANCE_VERIFY, Operation::InstanceVerify),
        (task::PAIR_REMOVE, Operation::PairRemove),
        (task::INSTANCE_REMOVE, Operation::InstanceRemove),
    ];
}

/// Runs one [`Operation`] with the job-item bookkeeping of [`crate::item`].
#[derive(Debug, Clone)]
pub struct MirrorHandler {
    ctx: Arc<MirrorsContext>,
    operation: Operation,
}

impl MirrorHandler {
    pub fn new(ctx: Arc<MirrorsContext>, operation: Operation) -> Self {
        MirrorHandler { ctx, operation }
    }
}

async fn no_check(_: &MirrorsContext, _: &Run) -> OpResult {
    Ok(())
}

#[async_trait]
impl TaskHandler for MirrorHandler {
    async fn handle(&self, task: Task) -> Result<(), TaskError> {
        let ctx = &*self.ctx;
        match self.operation {
            Operation::Create => run_item(ctx, task, no_check, create::run).await,
            Operation::Update => run_item(ctx, task, no_check, update::run).await,
            Operation::Sync => run_item(ctx, task, no_check, sync::run_sync).await,
            Operation::RefreshStatus => run_item(ctx, task, no_check, sync::run_refresh).await,
            Operation::Verify => run_item(ctx, task, no_check, verify::run).await,
            Operation::RotateToken => run_item(ctx, task, no_check, rotate::run).await,
            Operation::Delete => run_item(ctx, task, no_check, delete::run).await,
            Operation::InstanceVerify => run_item(ctx, task, no_check, instance::verify).await,
            Operation::PairRemove => {
                run_item(
                    ctx,
                    task,
                    instance::wait_for_cleanups,
                    instance::remove_pair,
                )
                .await
            }
            Operation::InstanceRemove => {
                run_item(
                    ctx,
                    task,
                    instance::wait_for_cleanups,
                    instance::remove_instance,
                )
                .await
            }
        }
    }
}

/// Every mirror, pair and instance task handler, keyed by [`crate::kinds::task`].
pub fn handlers(ctx: Arc<MirrorsContext>) -> HandlerRegistry {
    register(HandlerRegistry::new(), ctx)
}

/// Adds the handlers of this crate to an existing registry.
pub fn register(registry: HandlerRegistry, ctx: Arc<MirrorsContext>) -> HandlerRegistry {
    Operation::ALL
        .into_iter()
        .fold(registry, |registry, (kind, operation)| {
            registry.register(kind, MirrorHandler::new(ctx.clone(), operation))
        })
}
