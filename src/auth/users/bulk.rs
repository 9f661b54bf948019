//! Acting on many users at once: a selection (ids, or every active user of a role or presence)
//! and one action; each user succeeds or fails on its own, by the rules of the one-user action.

use entities::enums::{Presence, Role};
use entities::user;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::auth::Caller;
use crate::auth::users::admin::{self, capacity, ensure_grantable, parse_presence, parse_role};
use crate::domain::{Error, Result};
use crate::state::AppState;

/// Most ids one bulk request takes.
pub const BULK_MAX: usize = 1000;

/// A bulk action, as the request spelled it.
pub struct ActionInput<'a> {
    /// `delete`, `set_role`, `set_status` or `set_capacity`.
    pub action: &'a str,
    pub role: Option<&'a str>,
    pub status: Option<&'a str>,
    /// For `set_capacity`: present (a number or null) or absent.
    pub max_concurrent: Option<Option<i32>>,
}

/// Which users, as the request spelled it: `ids` (at most [`BULK_MAX`]) or `all` (every active
/// user, optionally of a role or presence).
pub struct Selection<'a> {
    pub mode: &'a str,
    pub ids: Option<&'a [String]>,
    pub role: Option<&'a str>,
    pub status: Option<&'a str>,
}

enum Action {
    Delete,
    SetRole(Role),
    SetStatus(Presence),
    SetCapacity(Option<i32>),
}

fn action(a: &ActionInput) -> Result<Action> {
    Ok(match a.action.trim() {
        "delete" => Action::Delete,
        "set_role" => Action::SetRole(parse_role(
            "role",
            a.role.ok_or_else(|| Error::invalid("role", "role is required for set_role"))?,
        )?),
        "set_status" => Action::SetStatus(parse_presence(
            "status",
            a.status.ok_or_else(|| Error::invalid("status", "status is required for set_status"))?,
        )?),
        "set_capacity" => Action::SetCapacity(capacity(a.max_concurrent.ok_or_else(|| {
            Error::invalid("maxConcurrent", "maxConcurrent (a number or null) is required for set_capacity")
        })?)?),
        _ => {
            return Err(Error::invalid("action", "action must be delete, set_role, set_status or set_capacity"));
        }
    })
}

/// The ids a selection names, deduplicated, in order.
async fn selected(state: &AppState, org_id: &str, selection: &Selection<'_>) -> Result<Vec<String>> {
    match selection.mode {
        "ids" => {
            if selection.role.is_some() || selection.status.is_some() {
                return Err(Error::invalid("selection.mode", "role and status filter mode all, not a list of ids"));
            }
            let ids = selection
                .ids
                .filter(|ids| !ids.is_empty())
                .ok_or_else(|| Error::invalid("selection.ids", "selection.ids must be a list of user ids"))?;
            if ids.len() > BULK_MAX {
                return Err(Error::invalid("selection.ids", format!("at most {BULK_MAX} ids")));
            }
            let mut out: Vec<String> = Vec::with_capacity(ids.len());
            for id in ids {
                if !out.iter().any(|o| o == id) {
                    out.push(id.to_owned());
                }
            }
            Ok(out)
        }
        "all" => {
            if selection.ids.is_some() {
                return Err(Error::invalid("selection.ids", "mode all takes no ids; use mode ids to name users"));
            }
            let mut query =
                user::Entity::find().filter(user::Column::OrgId.eq(org_id)).filter(user::Column::DeletedAt.is_null());
            if let Some(r) = selection.role {
                query = query.filter(user::Column::Role.eq(parse_role("selection.role", r)?.as_str()));
            }
            if let Some(s) = selection.status {
                query = query.filter(user::Column::Status.eq(parse_presence("selection.status", s)?.as_str()));
            }
            let users = query.order_by_asc(user::Column::Name).order_by_asc(user::Column::Id).all(state.db()).await?;
            Ok(users.into_iter().map(|u| u.id).collect())
        }
        _ => Err(Error::invalid("selection.mode", "selection.mode must be ids or all")),
    }
}

async fn apply(state: &AppState, caller: &Caller, id: &str, action: &Action) -> Result<()> {
    match action {
        Action::Delete => {
            admin::delete(state, caller, id).await?;
        }
        Action::SetRole(role) => {
            admin::set_role(state, caller, id, *role).await?;
        }
        Action::SetStatus(status) => {
            admin::set_status(state, &caller.org_id, id, *status, false).await?;
        }
        Action::SetCapacity(cap) => {
            admin::set_capacity(state, &caller.org_id, id, *cap).await?;
        }
    }
    Ok(())
}

/// What a bulk action came to.
pub struct Report {
    /// Users selected.
    pub matched: usize,
    /// The users it failed for, and why.
    pub failed: Vec<(String, Error)>,
}

/// Applies one action to the selected users of the caller's organization: 400 for an action or
/// selection that is not valid as a whole; otherwise each user succeeds or fails on its own (the
/// caller is never deleted).
pub async fn run(state: &AppState, caller: &Caller, a: &ActionInput<'_>, selection: &Selection<'_>) -> Result<Report> {
    let action = action(a)?;
    if let Action::SetRole(role) = &action {
        ensure_grantable(caller, *role)?;
    }
    let ids = selected(state, &caller.org_id, selection).await?;
    let mut failed = Vec::new();
    for id in &ids {
        if let Err(e) = apply(state, caller, id, &action).await {
            failed.push((id.clone(), e));
        }
    }
    if matches!(action, Action::SetCapacity(_) | Action::SetRole(_)) {
        state.rt.request_drain(&caller.org_id);
    }
    Ok(Report { matched: ids.len(), failed })
}
